"""Metrics of sequential learning: per run from its accuracy matrix, then across trials at each measure's best λ.

Reads the rows of ``SequentialLearning``'s results CSV (``Schema.SEQUENTIAL_COLUMNS``: one row per evaluation of
task j after training task i of one run (trial, measure, λ)), as ``loading.load_sequential`` returns them.

A run is *complete* when it has every (trained_task, evaluated_task) row of its T tasks (``Schema.sequential_pairs``:
task j <= i evaluated after training task i). T is the ``num_tasks`` of the configuration JSON beside the run's
CSV where there is one, else the largest task index in that file + 1 (and at least ``Schema.MIN_SEQUENTIAL_TASKS``),
so a run cut short (say, only its task-A rows, written while the run still trains) is never read as a shorter
sequence. An incomplete run has NaN metrics; the analyses leave it out with a warning naming it
(``describe_incomplete_runs``).

Metrics of one run, from its accuracy matrix R (R[i, j]: accuracy on task j after training task i; T tasks,
counted from 0):

- ``average_accuracy``: (1/T) Σ_j R[T-1, j], the mean accuracy after the last task.
- ``forgetting``: (1/(T-1)) Σ_{j<T-1} (max_{j<=l<T-1} R[l, j] - R[T-1, j]), the largest earlier accuracy on a task
  minus its final accuracy, averaged over all but the last task (Chaudhry et al. 2018, "Riemannian Walk for
  Incremental Learning"). Lower is better; negative when a task ends better than it ever was before.
- ``backward_transfer``: (1/(T-1)) Σ_{j<T-1} (R[T-1, j] - R[j, j]) (Lopez-Paz & Ranzato 2017, "Gradient Episodic
  Memory for Continual Learning"). Higher is better; with two tasks it is minus the forgetting.

Best λ: for each (task, sequence, measure), the λ with the highest mean ``average_accuracy`` across trials (the
smaller λ on a tie). The summary reports every metric at that λ, with t-intervals across trials
(``statistics.confidence_interval``), and the rank by mean forgetting among the penalised measures.
``LAMBDA_CHOICE_NOTE`` says what that choice implies: λ is chosen on the same evaluations it is reported on (these
results hold no held-out split), so each measure's numbers at its best λ are the best of its ``num_lambdas`` and
optimistic by that choice, the more so the more λ it had. ``none`` (plain fine-tuning) has one run per trial, so
its gap to a measure at the measure's best λ is partly that choice: no test against ``none`` is made and ``none``
is left unranked. The λ sweep shows every measure at each fixed λ. λ chosen on held-out examples, with the trials of
thresholding and EWC paired, is the bridge study's (``bridge_study``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from Analysis.columns import SEQUENTIAL_RUN_KEYS as RUN_KEYS
from Analysis.loading import load_config
from Analysis.statistics import summarize_values
from Analysis.summary import interval_column
from Schema import MIN_SEQUENTIAL_TASKS, NO_PENALTY, config_path, sequential_pairs

EWC_METRICS = ("average_accuracy", "forgetting", "backward_transfer")
HIGHER_IS_BETTER = {"average_accuracy": True, "forgetting": False, "backward_transfer": True}
MEASURE_KEYS = ("task", "sequence", "measure")
LAMBDA_CHOICE_NOTE = ("Each measure's best λ was chosen on the same evaluations reported here (no held-out split), so "
                      "its numbers are the best of its `num_lambdas` λ, optimistic by that choice; `none` has one run "
                      "per trial, so it is neither tested against nor ranked with the measures. The λ sweep shows "
                      "every measure at each fixed λ; for λ chosen on held-out examples see the bridge study "
                      "(`python -m Bridge`).")


# -- one run --------------------------------------------------------------------------------------------------
def accuracy_matrix(rows: pd.DataFrame, value: str = "accuracy", num_tasks: int | None = None) -> np.ndarray:
    """The T x T matrix of ``value`` of one run: [trained_task, evaluated_task], NaN where not evaluated; T is
    ``num_tasks``, or the largest task index of ``rows`` + 1."""
    largest = int(max(rows["trained_task"].max(), rows["evaluated_task"].max())) + 1
    size = largest if num_tasks is None else int(num_tasks)
    if largest > size:
        raise ValueError(f"A run has rows of task {largest - 1}, beyond the {size} tasks of its configuration.")
    matrix = np.full((size, size), np.nan)
    matrix[rows["trained_task"].to_numpy(int), rows["evaluated_task"].to_numpy(int)] = rows[value].to_numpy(float)
    return matrix


def matrix_metrics(matrix) -> dict[str, float]:
    """``average_accuracy``, ``forgetting`` and ``backward_transfer`` of an accuracy matrix (module docstring)."""
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 1:
        raise ValueError(f"An accuracy matrix is square, T x T; got shape {matrix.shape}.")
    count = matrix.shape[0]
    final = matrix[count - 1]
    metrics = {"average_accuracy": float(np.mean(final))}
    if count < 2:
        return {**metrics, "forgetting": np.nan, "backward_transfer": np.nan}
    earlier = range(count - 1)
    metrics["forgetting"] = float(np.mean([np.max(matrix[j:count - 1, j]) - final[j] for j in earlier]))
    metrics["backward_transfer"] = float(np.mean([final[j] - matrix[j, j] for j in earlier]))
    return metrics


def num_tasks_per_file(results: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """Per ``source`` file of ``results`` (one key, '', when there is no ``source`` column): (T, where T comes
    from), from the configuration JSON beside the file (its ``num_tasks``) or else from the file's largest task
    index (module docstring)."""
    sources = results["source"] if "source" in results.columns else pd.Series("", index=results.index)
    found = {}
    for source, rows in results.groupby(sources, sort=False):
        configured = _configured_num_tasks(source) if source else None
        if configured is not None:
            found[source] = (configured, f"the configuration {config_path(source)}")
            continue
        largest = int(max(rows["trained_task"].max(), rows["evaluated_task"].max())) + 1
        where = f"{source}'s largest task index" if source else "the largest task index of the results"
        if largest < MIN_SEQUENTIAL_TASKS:
            where += f" ({largest - 1}; a sequence has at least {MIN_SEQUENTIAL_TASKS} tasks)"
        found[source] = (max(largest, MIN_SEQUENTIAL_TASKS), where)
    return found


def _configured_num_tasks(source: str) -> int | None:
    try:
        config = load_config(source)
    except ValueError:
        return None
    value = (config or {}).get("num_tasks")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value


def run_metrics(results: pd.DataFrame, num_tasks: int | None = None) -> pd.DataFrame:
    """One row per run: ``trial``, ``seed``, ``RUN_KEYS``, ``num_tasks`` (T), ``num_tasks_from`` (where T comes
    from), ``num_pairs`` (how many of its T (T + 1) / 2 rows the run has), ``complete``, ``EWC_METRICS`` and, where
    the results name their files, ``source``.

    T is ``num_tasks`` when given, else per file (``num_tasks_per_file``). A run that lacks some of its rows (cut
    short) is marked ``complete = False`` and its metrics are NaN."""
    sources = results["source"] if "source" in results.columns else pd.Series("", index=results.index)
    per_file = ({source: (int(num_tasks), "the number given") for source in pd.unique(sources)}
                if num_tasks is not None else num_tasks_per_file(results))
    rows = []
    for keys, run in results.groupby(["trial", *RUN_KEYS], sort=True):
        source = str(sources.loc[run.index[0]])
        count, where = max(per_file[s] for s in pd.unique(sources.loc[run.index]))
        pairs = set(zip(run["trained_task"].astype(int), run["evaluated_task"].astype(int)))
        expected = sequential_pairs(count)
        complete = expected <= pairs
        matrix = accuracy_matrix(run, num_tasks=count)
        metrics = matrix_metrics(matrix) if complete else dict.fromkeys(EWC_METRICS, np.nan)
        row = {"trial": keys[0], "seed": int(run["seed"].iloc[0]), **dict(zip(RUN_KEYS, keys[1:])),
               "num_tasks": count, "num_tasks_from": where, "num_pairs": len(pairs & expected),
               "complete": complete, **metrics}
        if source:
            row["source"] = source
        rows.append(row)
    return pd.DataFrame(rows)


def describe_incomplete_runs(metrics: pd.DataFrame, limit: int = 5) -> str | None:
    """One sentence naming the incomplete runs of ``metrics`` (``run_metrics``): trial, measure, λ, file, rows
    found of those expected and where the number of tasks comes from; None when every run is complete."""
    incomplete = metrics[~metrics["complete"].astype(bool)]
    if incomplete.empty:
        return None
    listed = []
    for _, run in incomplete.head(limit).iterrows():
        where = f" of {run['source']}" if "source" in run and isinstance(run["source"], str) else ""
        expected = len(sequential_pairs(int(run["num_tasks"])))
        listed.append(f"trial {run['trial']}, measure {run['measure']}, λ {run['lambda']:g}{where}: "
                      f"{run['num_pairs']} of its {expected} rows for {run['num_tasks']} tasks (from "
                      f"{run['num_tasks_from']})")
    more = f"; and {len(incomplete) - limit} more" if len(incomplete) > limit else ""
    return (f"{len(incomplete)} sequential run(s) lack rows (cut short, or still running) and are left out of the "
            f"metrics: {'; '.join(listed)}{more}. Resume the run to complete them.")


# -- across trials --------------------------------------------------------------------------------------------
def lambda_sweep(metrics: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t") -> pd.DataFrame:
    """Mean and confidence interval of every metric per (task, sequence, measure, λ) across trials."""
    rows = []
    for keys, group in metrics.groupby(list(RUN_KEYS), sort=True):
        row = {**dict(zip(RUN_KEYS, keys)), "num_trials": int(group["trial"].nunique())}
        for name in EWC_METRICS:
            described = summarize_values(group[name].to_numpy(float), confidence, ci_method)
            row.update({f"{name}_{key}": described[key] for key in ("mean", "ci_low", "ci_high")})
        rows.append(row)
    return pd.DataFrame(rows)


def best_lambdas(metrics: pd.DataFrame, criterion: str = "average_accuracy") -> pd.DataFrame:
    """The best λ of each (task, sequence, measure): the highest mean ``criterion`` (smaller λ on a tie)."""
    if criterion not in EWC_METRICS:
        raise ValueError(f"Unknown criterion {criterion!r}; valid: {list(EWC_METRICS)}.")
    means = metrics.groupby(list(RUN_KEYS), sort=True)[criterion].mean().reset_index()
    sign = 1.0 if HIGHER_IS_BETTER[criterion] else -1.0
    means["_score"] = sign * means[criterion]
    means = means.sort_values([*MEASURE_KEYS, "_score", "lambda"], ascending=[True, True, True, False, True],
                              kind="stable")
    best = means.groupby(list(MEASURE_KEYS), sort=True).head(1)
    return best[[*MEASURE_KEYS, "lambda"]].reset_index(drop=True)


def at_best_lambda(metrics: pd.DataFrame, criterion: str = "average_accuracy") -> pd.DataFrame:
    """The per-trial metrics of each measure's runs at its best λ."""
    return metrics.merge(best_lambdas(metrics, criterion), on=list(RUN_KEYS), how="inner")


def sequential_summary(metrics: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t",
                       criterion: str = "average_accuracy") -> pd.DataFrame:
    """One row per (task, sequence, measure) at its best λ: ``lambda``, ``num_lambdas``, ``num_trials``, the
    mean, standard deviation and confidence interval of each metric, and ``rank`` (1 = least forgetting, among the
    measures other than ``none``, which is unranked: ``LAMBDA_CHOICE_NOTE``)."""
    best = at_best_lambda(metrics, criterion)
    swept = metrics.groupby(list(MEASURE_KEYS))["lambda"].nunique()
    rows = []
    for (task, sequence, measure), group in best.groupby(list(MEASURE_KEYS), sort=True):
        row = {"task": task, "sequence": sequence, "measure": measure, "lambda": float(group["lambda"].iloc[0]),
               "num_lambdas": int(swept[(task, sequence, measure)]), "num_trials": int(group["trial"].nunique())}
        for name in EWC_METRICS:
            described = summarize_values(group[name].to_numpy(float), confidence, ci_method)
            row.update({f"{name}_{key}": value for key, value in described.items()})
        rows.append(row)
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    ranked = summary["forgetting_mean"].where(summary["measure"] != NO_PENALTY)
    summary["rank"] = ranked.groupby([summary["task"], summary["sequence"]]).rank(method="min").astype("Int64")
    return summary.sort_values(["task", "sequence", "rank", "measure"], kind="stable").reset_index(drop=True)


def format_sequential_summary(summary: pd.DataFrame, digits: int = 3, confidence: float = 0.95) -> str:
    """The summary as aligned text, metrics as ``mean [low, high]`` (the ``confidence`` interval)."""
    level = f"{100 * confidence:g}% CI"
    shown = pd.DataFrame({
        "task": summary["task"], "sequence": summary["sequence"], "measure": summary["measure"],
        "best lambda": summary["lambda"].map(lambda v: f"{v:g}"),
        "of lambdas": summary["num_lambdas"],
        "trials": summary["num_trials"],
        f"forgetting [{level}]": interval_column(summary, "forgetting", digits),
        f"average accuracy [{level}]": interval_column(summary, "average_accuracy", digits),
        f"BWT [{level}]": interval_column(summary, "backward_transfer", digits),
        "rank": summary["rank"].map(lambda v: "-" if pd.isna(v) else str(int(v))),
    })
    return shown.to_string(index=False)


def mean_accuracy_matrices(results: pd.DataFrame, metrics: pd.DataFrame | None = None,
                           criterion: str = "average_accuracy") -> dict[tuple, np.ndarray]:
    """The accuracy matrix of each (task, sequence, measure) at its best λ, averaged over the trials whose run is
    complete (``metrics``: ``run_metrics`` of ``results``; incomplete runs are never averaged in)."""
    metrics = run_metrics(results) if metrics is None else metrics
    metrics = metrics[metrics["complete"].astype(bool)]
    chosen_runs = at_best_lambda(metrics, criterion)[["trial", *RUN_KEYS, "num_tasks"]]
    chosen = results.drop(columns="num_tasks", errors="ignore").merge(chosen_runs, on=["trial", *RUN_KEYS])
    matrices = {}
    for keys, group in chosen.groupby(list(RUN_KEYS), sort=True):
        means = group.groupby(["trained_task", "evaluated_task"], as_index=False)["accuracy"].mean()
        matrices[keys] = accuracy_matrix(means, num_tasks=int(group["num_tasks"].max()))
    return matrices
