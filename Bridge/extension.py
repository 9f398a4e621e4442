"""λ beyond the grid's edge: where the λ chosen for a measure is the smallest or largest it was run with, its
optimum may lie outside the grid, so the measure would be judged at the wrong strength. The study then runs it
further out.

Once every trial of the study is complete, λ is chosen per measure label and for ``uniform`` (``none`` has only
λ = 0) exactly as the analysis chooses it (``Schema.lambda_choice.choose_lambdas``): the highest mean over trials of
the final average accuracy on the selection split, (1/T) Σ_j R[T-1, j] with R[i, j] the accuracy on task j after
training task i (``Analysis.sequential_metrics``), the smaller λ on a tie. If the chosen λ is the smallest of the λ
that label was run with, it is also run at λ / f in every trial; if it is the largest, at λ × f (both for a grid of
one λ); f = ``lambda_extension_factor``. This repeats until each choice is interior or the next λ would leave
``lambda_bounds`` [low, high] (or would be 0 or below, for a grid holding λ = 0). New λ are rounded to
``Schema.KEY_DIGITS`` decimal places, as run keys are, so a value computed again on resumption is the same value.

Nothing new is recorded: the λ a label was extended with are those of its recorded runs that are not in the grid
(``recorded_extensions``), so a study stopped at any point resumes from its CSVs alone. It makes the missing runs
of those λ first, then chooses again from the selection rows as written, which are the rows an uninterrupted study
chooses from; a finished study chooses what it chose before and adds nothing.
"""

from __future__ import annotations

import numpy as np

from Bridge.config import BridgeConfig
from Bridge.paths import SELECTION, SEQUENTIAL
from Schema import KEY_DIGITS, NO_PENALTY, sequential_run_key
from Schema.lambda_choice import choose_lambdas


def recorded_extensions(config: BridgeConfig, done: dict[str, set]) -> dict[str, list[float]]:
    """Per label, the λ of its recorded runs (``done[part]``: run keys of either EWC part, any trial) that are not
    in the grid ``ewc_lambdas``: the values the study extended it with."""
    grid = {round(value, KEY_DIGITS) for value in config.ewc_lambdas}
    found: dict[str, set] = {}
    for part in (SEQUENTIAL, SELECTION):
        for _, label, value in done[part]:
            if label != NO_PENALTY and value not in grid:
                found.setdefault(label, set()).add(value)
    return {label: sorted(values) for label, values in found.items()}


def lambdas_to_add(selection, lambdas, factor: float | None, bounds) -> list[list[float]]:
    """Per measure of ``selection`` [trial, measure, λ] (scores, higher = better; NaN where a measure was not run
    at a λ of ``lambdas``, the ascending λ axis), the λ to run next (module docstring): [] where its choice is
    interior, where the next λ would leave ``bounds`` [low, high], or where ``factor`` is None."""
    selection = np.asarray(selection, dtype=float)
    lambdas = np.asarray(lambdas, dtype=float)
    if selection.ndim != 3 or selection.shape[-1] != len(lambdas):
        raise ValueError(f"selection must be [trial, measure, λ] with one λ per value of lambdas ({len(lambdas)}); "
                         f"got shape {selection.shape}.")
    if np.any(np.diff(lambdas) <= 0):
        raise ValueError(f"lambdas must be ascending and distinct; got {lambdas.tolist()}.")
    chosen = choose_lambdas(selection)
    run = ~np.isnan(selection).all(axis=0)  # [measure, λ]: the λ each measure was run with
    low, high = bounds
    additions = []
    for measure, index in enumerate(chosen):
        values, value, add = lambdas[run[measure]], float(lambdas[index]), []
        if factor is not None and len(values):
            smaller, larger = round(value / factor, KEY_DIGITS), round(value * factor, KEY_DIGITS)
            if value == values[0] and smaller > 0 and smaller >= low:
                add.append(smaller)
            if value == values[-1] and larger <= high:
                add.append(larger)
        additions.append(add)
    return additions


def selection_scores(config: BridgeConfig, rows: list[dict], extended: dict[str, list[float]]
                     ) -> tuple[np.ndarray, list[str], list[float]]:
    """(scores [trial, label, λ], labels, λ axis): the final average accuracy on the selection split of each run
    of ``config.runs(extended)`` from its ``rows`` (the selection CSV's, as read), NaN where a run lacks rows; the
    labels are every EWC importance but ``none``."""
    labels = [label for label in config.ewc_measures() if label != NO_PENALTY]
    keyed = {label: {round(v, KEY_DIGITS) for v in config.lambdas_of(label, extended.get(label, ()))}
             for label in labels}
    lambdas = sorted({value for values in keyed.values() for value in values})
    last = config.num_tasks - 1
    final: dict[tuple, dict[int, float]] = {}
    for row in rows:
        key = sequential_run_key(row["trial"], row["measure"], row["lambda"])
        if int(row["trained_task"]) == last and key[2] in keyed.get(key[1], ()):
            final.setdefault(key, {})[int(row["evaluated_task"])] = float(row["accuracy"])
    scores = np.full((config.num_trials, len(labels), len(lambdas)), np.nan)
    for (trial, label, value), accuracies in final.items():
        if trial < config.num_trials and len(accuracies) == config.num_tasks:
            scores[trial, labels.index(label), lambdas.index(value)] = np.mean(
                [accuracies[j] for j in range(config.num_tasks)])
    return scores, labels, lambdas


def next_extensions(config: BridgeConfig, extended: dict[str, list[float]], rows: list[dict]
                    ) -> dict[str, list[float]]:
    """Per label, the λ to run next in every trial, given the λ it was ``extended`` with so far and the selection
    ``rows`` of a study whose trials are complete; empty when nothing is at an edge (or the extension is off)."""
    if config.lambda_extension_factor is None:
        return {}
    scores, labels, lambdas = selection_scores(config, rows, extended)
    additions = lambdas_to_add(scores, lambdas, config.lambda_extension_factor, config.lambda_bounds)
    return {label: add for label, add in zip(labels, additions) if add}
