"""The bridge study's inputs (``Analysis.bridge_study``): its three files read, each EWC run scored, and the
trials that lack something named.

A study read while it runs, or after it stopped, holds trials that are cut short: a thresholding part without
some measure's curves, EWC runs not yet made, or a run with only some of its rows (``sequential_metrics``: complete
when it has every (trained, evaluated) row of its number of tasks, taken from the configuration JSON beside the
file). ``incomplete_trials`` names what each such trial lacks, so the study analyses the complete trials and says
which it left out, or refuses when none is complete. ``declared_primary`` reads the primary hypothesis that the
study's configuration declares (``Analysis.bridge_claims``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from Analysis.loading import load_results, load_sequential
from Analysis.sequential_metrics import accuracy_matrix, run_metrics
from Schema import BRIDGE_PRIMARY, config_path, sequential_pairs

THRESHOLDING_CSV, SEQUENTIAL_CSV, SELECTION_CSV = "thresholding.csv", "sequential.csv", "selection.csv"


def load_bridge(results_dir) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The thresholding, sequential and selection rows of the study in ``results_dir``."""
    folder = Path(results_dir)
    return (load_results(folder / THRESHOLDING_CSV), load_sequential(folder / SEQUENTIAL_CSV),
            load_sequential(folder / SELECTION_CSV))


def declared_primary(results_dir) -> tuple[dict, str]:
    """The primary hypothesis (``Schema.BRIDGE_PRIMARY``'s fields) that the configuration JSON beside the study's
    thresholding CSV declares, and where it comes from; a JSON written before the fields existed, or none, gives
    the defaults, and says so."""
    path = config_path(Path(results_dir) / THRESHOLDING_CSV)
    if not path.is_file():
        return dict(BRIDGE_PRIMARY), f"the default, as {path} does not exist"
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path} is not a readable configuration ({type(error).__name__}: {error}).") from error
    if not isinstance(values, dict):
        raise ValueError(f"{path} holds a {type(values).__name__}, not a configuration object.")
    if not set(BRIDGE_PRIMARY) & set(values):
        return dict(BRIDGE_PRIMARY), f"the default, as {path} was written before a study declared one"
    return {name: values.get(name, default) for name, default in BRIDGE_PRIMARY.items()}, f"declared in {path}"


def ewc_scores(sequential: pd.DataFrame) -> pd.DataFrame:
    """Per run (trial, measure, λ): ``forgetting_a`` (task 0) and ``average_accuracy`` (``run_metrics``), NaN for
    a run that lacks rows (``complete`` False), and ``num_pairs``, ``num_tasks``, ``num_tasks_from`` and ``source``
    (where known) to name it."""
    metrics = run_metrics(sequential)
    tasks = dict(zip(zip(metrics["trial"], metrics["measure"], metrics["lambda"]), metrics["num_tasks"]))
    complete = {key for key, done in zip(tasks, metrics["complete"]) if done}
    forgetting = {}
    for key, run in sequential.groupby(["trial", "measure", "lambda"]):
        if key in complete:
            matrix = accuracy_matrix(run, num_tasks=tasks[key])
            forgetting[key] = float(np.max(matrix[:-1, 0]) - matrix[-1, 0])
    metrics["forgetting_a"] = [forgetting.get(key, np.nan) for key in tasks]
    columns = ["trial", "measure", "lambda", "complete", "forgetting_a", "average_accuracy", "num_pairs",
               "num_tasks", "num_tasks_from"]
    return metrics[columns + (["source"] if "source" in metrics.columns else [])]


def incomplete_trials(curves: pd.DataFrame, parts: dict[str, pd.DataFrame]) -> dict[int, list[str]]:
    """Per trial that lacks something, what it lacks: ``curves`` (``trial_metrics`` of the thresholding part) must
    hold every measure that any trial has; each EWC part (name -> ``ewc_scores``) every (measure, λ) run that any
    trial has, each with all of its rows. A study read during its run, or after it stopped, has such trials."""
    trials = sorted(set(curves["trial"]).union(*(set(part["trial"]) for part in parts.values())))
    lacking: dict[int, list[str]] = {}
    measures = set(curves["measure"])
    for trial in trials:
        have = set(curves.loc[curves["trial"] == trial, "measure"])
        if not have:
            lacking.setdefault(trial, []).append(f"no rows in {THRESHOLDING_CSV}")
        elif measures - have:
            lacking.setdefault(trial, []).append(f"no curves of {sorted(measures - have)} in {THRESHOLDING_CSV}")
    for name, part in parts.items():
        runs = set(zip(part["measure"], part["lambda"]))
        for trial in trials:
            rows = part[part["trial"] == trial]
            if rows.empty:
                lacking.setdefault(trial, []).append(f"no runs in {name}")
                continue
            missing = sorted(runs - set(zip(rows["measure"], rows["lambda"])))
            if missing:
                lacking.setdefault(trial, []).append(f"{len(missing)} of its {len(runs)} runs missing in {name} "
                                                     f"({_runs(missing)})")
            cut = rows[~rows["complete"].astype(bool)]
            if not cut.empty:
                expected = len(sequential_pairs(int(cut["num_tasks"].iloc[0])))
                lacking.setdefault(trial, []).append(
                    f"{len(cut)} run(s) in {name} cut short ({_runs(zip(cut['measure'], cut['lambda']))}: "
                    f"{'/'.join(str(n) for n in cut['num_pairs'])} of {expected} rows each, "
                    f"{int(cut['num_tasks'].iloc[0])} tasks from {cut['num_tasks_from'].iloc[0]})")
    return lacking


def _runs(runs, limit: int = 4) -> str:
    runs = list(runs)
    shown = ", ".join(f"{measure} at λ {value:g}" for measure, value in runs[:limit])
    return shown + (f" and {len(runs) - limit} more" if len(runs) > limit else "")
