"""The sequential-learning analysis: accuracy matrices, forgetting, backward transfer, the λ sweep, and how the
measures' thresholding ranking relates to their ranking as EWC importances.

Reads the results CSV of ``SequentialLearning`` (columns ``SEQUENTIAL_COLUMNS``: one row per evaluation of task j
after training task i of one run (trial, measure, λ)). Never imports the training code.

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
(``statistics.confidence_interval``), the rank by mean forgetting, and a paired t-test of the forgetting against
``none`` (plain fine-tuning) over the trials both have. λ is chosen on the same evaluations it is reported on, which
favours every measure alike (each gets its best λ), the usual practice of EWC papers.

Thresholding vs EWC (``thresholding_vs_ewc``): for one task, the Spearman rank correlation across the measures
present in both experiments between their thresholding score (mean per-trial ``normalized_auc`` at one epoch,
aggregation level, scope, order and replacement; default order ``least`` at weight level) and their EWC score (mean
forgetting at their best λ). Both scores are oriented so that lower is better, so ρ = +1 means the measure that best
finds the weights a model can lose is also the one that best protects an old task. Confidence interval: a
percentile bootstrap over trials (each experiment's trials resampled independently, the measure means and ρ
recomputed; default), or Fisher's z with the variance 1.06 / (n - 3) of Spearman's ρ over n measures (Fieller,
Hartley & Pearson 1957). The bootstrap interval says how much ρ moves with the trials drawn (measures of one trial
share its seed, so their differences are paired); the p-value (``scipy.stats.spearmanr``) and the Fisher-z interval
treat the measures themselves as the sample. With few trials the bootstrap has few distinct resamples (10 per
experiment with 3 trials): read it as a rough guide.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from Analysis import paths
from Analysis.columns import lower_is_better
from Analysis.loading import _read_csv
from Analysis.metrics import DEFAULT_TOLERANCE, trial_metrics
from Analysis.report import markdown_table
from Analysis.statistics import confidence_interval, paired_test
from Analysis.summary import interval_text

SEQUENTIAL_COLUMNS = (
    "trial", "seed", "task", "sequence", "measure", "lambda", "trained_task", "evaluated_task", "accuracy", "loss",
    "penalty",
)
RUN_KEYS = ("task", "sequence", "measure", "lambda")
EWC_METRICS = ("average_accuracy", "forgetting", "backward_transfer")
HIGHER_IS_BETTER = {"average_accuracy": True, "forgetting": False, "backward_transfer": True}
NO_PENALTY = "none"
BRIDGE_CI_METHODS = ("bootstrap", "fisher_z")

SEQUENTIAL_SUMMARY_CSV = "sequential_summary.csv"
SEQUENTIAL_RUN_METRICS_CSV = "sequential_run_metrics.csv"
SEQUENTIAL_LAMBDA_SWEEP_CSV = "sequential_lambda_sweep.csv"
THRESHOLDING_VS_EWC_CSV = "thresholding_vs_ewc.csv"
SEQUENTIAL_REPORT_MARKDOWN = "sequential_report.md"
DPI = 100


# -- reading ----------------------------------------------------------------------------------------------------
def is_sequential_csv(path) -> bool:
    """Whether ``path`` is a CSV whose header holds the sequential-learning columns."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError):
        return False
    return set(SEQUENTIAL_COLUMNS) <= set(header)


def load_sequential(csv_paths, **criteria) -> pd.DataFrame:
    """Read one or several sequential-learning CSVs into one DataFrame (``source`` names each row's file).

    Rows repeated within a file (same trial, measure, λ, trained and evaluated task) keep the last. When two
    files hold the same keys, their trials are different runs: every trial is then renumbered ``0..N-1`` by
    (file, trial) with a warning (``source_trial`` keeps the original id). ``criteria`` filter columns, e.g.
    ``measure=["none", "fisher"]``.
    """
    if isinstance(csv_paths, (str, os.PathLike)):
        csv_paths = [csv_paths]
    csv_paths = [Path(p) for p in csv_paths]
    if not csv_paths:
        raise ValueError("No sequential results CSV given: pass at least one path.")
    frames = []
    for index, path in enumerate(csv_paths):
        frame = _read_csv(path, SEQUENTIAL_COLUMNS)
        for column in ("lambda", "accuracy", "loss", "penalty"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        for column in ("trained_task", "evaluated_task"):
            frame[column] = pd.to_numeric(frame[column], errors="raise").astype("int64")
        frame["sequence"] = frame["sequence"].astype(str)
        frame["source"] = str(path)
        frame["_source_index"] = index
        frames.append(frame)
    results = pd.concat(frames, ignore_index=True)
    results["source_trial"] = results["trial"]
    keys = ["trial", *RUN_KEYS, "trained_task", "evaluated_task"]
    repeated = results.duplicated(subset=keys + ["_source_index"], keep="last")
    if repeated.any():
        warnings.warn(f"{int(repeated.sum())} rows repeat the keys {keys} of an earlier row of the same file; the "
                      "last of each is kept.", stacklevel=2)
        results = results.loc[~repeated].reset_index(drop=True)
    if results.duplicated(subset=keys, keep=False).any():
        identities = results[["_source_index", "trial"]].drop_duplicates().sort_values(["_source_index", "trial"])
        identities["_new_trial"] = np.arange(len(identities), dtype="int64")
        results = results.merge(identities, on=["_source_index", "trial"], how="left")
        results["trial"] = results.pop("_new_trial")
        warnings.warn(f"The same runs appear in several files; the {len(identities)} trials were renumbered "
                      f"0..{len(identities) - 1} by (file, trial). 'source_trial' keeps the original ids.",
                      stacklevel=2)
    results = results.drop(columns="_source_index")
    for column, wanted in criteria.items():
        if wanted is None:
            continue
        if column not in results.columns:
            raise ValueError(f"Cannot select on {column!r}: no such column. Columns are {list(results.columns)}.")
        values = list(wanted) if isinstance(wanted, (list, tuple, set)) else [wanted]
        mask = results[column].isin(values)
        if not mask.any():
            raise ValueError(f"No sequential results have {column} in {values}; available: "
                             f"{sorted(pd.unique(results[column]).tolist(), key=str)}.")
        results = results.loc[mask].reset_index(drop=True)
    return results


# -- metrics of one run ------------------------------------------------------------------------------------------
def accuracy_matrix(rows: pd.DataFrame, value: str = "accuracy") -> np.ndarray:
    """The T x T matrix of ``value`` of one run: [trained_task, evaluated_task], NaN where not evaluated."""
    size = int(max(rows["trained_task"].max(), rows["evaluated_task"].max())) + 1
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


def run_metrics(results: pd.DataFrame) -> pd.DataFrame:
    """One row per run: ``trial``, ``seed``, ``RUN_KEYS``, ``num_tasks``, ``complete`` and ``EWC_METRICS``.

    A run whose matrix misses an entry (cut short) is marked ``complete = False`` and its metrics are NaN."""
    rows = []
    for keys, run in results.groupby(["trial", *RUN_KEYS], sort=True):
        matrix = accuracy_matrix(run)
        complete = bool(np.all(np.isfinite(matrix[np.tril_indices(len(matrix))])))
        metrics = matrix_metrics(matrix) if complete else dict.fromkeys(EWC_METRICS, np.nan)
        rows.append({"trial": keys[0], "seed": int(run["seed"].iloc[0]), **dict(zip(RUN_KEYS, keys[1:])),
                     "num_tasks": len(matrix), "complete": complete, **metrics})
    return pd.DataFrame(rows)


# -- across trials -------------------------------------------------------------------------------------------------
def lambda_sweep(metrics: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t") -> pd.DataFrame:
    """Mean and confidence interval of every metric per (task, sequence, measure, λ) across trials."""
    rows = []
    for keys, group in metrics.groupby(list(RUN_KEYS), sort=True):
        row = {**dict(zip(RUN_KEYS, keys)), "num_trials": int(group["trial"].nunique())}
        for name in EWC_METRICS:
            values = group[name].to_numpy(float)
            row[f"{name}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else np.nan
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = confidence_interval(values, confidence, ci_method)
        rows.append(row)
    return pd.DataFrame(rows)


def best_lambdas(metrics: pd.DataFrame, criterion: str = "average_accuracy") -> pd.DataFrame:
    """The best λ of each (task, sequence, measure): the highest mean ``criterion`` (smaller λ on a tie)."""
    if criterion not in EWC_METRICS:
        raise ValueError(f"Unknown criterion {criterion!r}; valid: {list(EWC_METRICS)}.")
    means = metrics.groupby(list(RUN_KEYS), sort=True)[criterion].mean().reset_index()
    sign = 1.0 if HIGHER_IS_BETTER[criterion] else -1.0
    means["_score"] = sign * means[criterion]
    means = means.sort_values(["task", "sequence", "measure", "_score", "lambda"],
                              ascending=[True, True, True, False, True], kind="stable")
    best = means.groupby(["task", "sequence", "measure"], sort=True).head(1)
    return best[["task", "sequence", "measure", "lambda"]].reset_index(drop=True)


def at_best_lambda(metrics: pd.DataFrame, criterion: str = "average_accuracy") -> pd.DataFrame:
    """The per-trial metrics of each measure's runs at its best λ."""
    return metrics.merge(best_lambdas(metrics, criterion), on=list(RUN_KEYS), how="inner")


def sequential_summary(metrics: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t",
                       criterion: str = "average_accuracy") -> pd.DataFrame:
    """One row per (task, sequence, measure) at its best λ: ``lambda``, ``num_lambdas``, ``num_trials``, the
    mean, standard deviation and confidence interval of each metric, ``rank`` (1 = least forgetting) and
    ``forgetting_p_vs_none`` (paired t-test against plain fine-tuning over the shared trials)."""
    best = at_best_lambda(metrics, criterion)
    swept = metrics.groupby(["task", "sequence", "measure"])["lambda"].nunique()
    rows = []
    for (task, sequence, measure), group in best.groupby(["task", "sequence", "measure"], sort=True):
        row = {"task": task, "sequence": sequence, "measure": measure, "lambda": float(group["lambda"].iloc[0]),
               "num_lambdas": int(swept[(task, sequence, measure)]), "num_trials": int(group["trial"].nunique())}
        for name in EWC_METRICS:
            values = group[name].to_numpy(float)
            finite = values[np.isfinite(values)]
            row[f"{name}_mean"] = float(finite.mean()) if finite.size else np.nan
            row[f"{name}_std"] = float(finite.std(ddof=1)) if finite.size > 1 else np.nan
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = confidence_interval(values, confidence, ci_method)
        reference = best[(best["task"] == task) & (best["sequence"] == sequence) & (best["measure"] == NO_PENALTY)]
        row["forgetting_p_vs_none"] = np.nan
        if measure != NO_PENALTY and not reference.empty:
            paired = group.merge(reference[["trial", "forgetting"]], on="trial", suffixes=("", "_none"))
            if len(paired) >= 2:
                row["forgetting_p_vs_none"] = paired_test(paired["forgetting"], paired["forgetting_none"]).p_value
        rows.append(row)
    summary = pd.DataFrame(rows)
    if summary.empty:
        return summary
    summary["rank"] = summary.groupby(["task", "sequence"])["forgetting_mean"].rank(method="min").astype("Int64")
    return summary.sort_values(["task", "sequence", "rank", "measure"], kind="stable").reset_index(drop=True)


def format_sequential_summary(summary: pd.DataFrame, digits: int = 3, confidence: float = 0.95) -> str:
    """The summary as aligned text, metrics as ``mean [low, high]`` (the ``confidence`` interval)."""
    level = f"{100 * confidence:g}% CI"
    shown = pd.DataFrame({
        "task": summary["task"], "sequence": summary["sequence"], "measure": summary["measure"],
        "best lambda": summary["lambda"].map(lambda v: f"{v:g}"),
        "trials": summary["num_trials"],
        f"forgetting [{level}]": _intervals(summary, "forgetting", digits),
        f"average accuracy [{level}]": _intervals(summary, "average_accuracy", digits),
        f"BWT [{level}]": _intervals(summary, "backward_transfer", digits),
        "p vs none": summary["forgetting_p_vs_none"].map(lambda v: "-" if pd.isna(v) else f"{v:.3g}"),
        "rank": summary["rank"].map(lambda v: "-" if pd.isna(v) else str(int(v))),
    })
    return shown.to_string(index=False)


def mean_accuracy_matrices(results: pd.DataFrame, metrics: pd.DataFrame | None = None,
                           criterion: str = "average_accuracy") -> dict[tuple, np.ndarray]:
    """The accuracy matrix of each (task, sequence, measure) at its best λ, averaged over trials."""
    metrics = run_metrics(results) if metrics is None else metrics
    chosen = results.merge(best_lambdas(metrics, criterion), on=list(RUN_KEYS), how="inner")
    matrices = {}
    for keys, group in chosen.groupby(["task", "sequence", "measure", "lambda"], sort=True):
        means = group.groupby(["trained_task", "evaluated_task"], as_index=False)["accuracy"].mean()
        matrices[keys] = accuracy_matrix(means)
    return matrices


# -- thresholding vs EWC -------------------------------------------------------------------------------------------
@dataclass
class ThresholdingVsEWC:
    """Spearman's ρ between the thresholding and the EWC ranking of the measures, with its confidence interval.

    ``table``: one row per measure in both experiments: ``thresholding_score`` and ``ewc_score`` (means across
    trials, lower = better), their ranks, ``lambda`` (best λ) and the trial counts."""

    rho: float
    ci_low: float
    ci_high: float
    p_value: float
    num_measures: int
    table: pd.DataFrame
    options: dict = field(default_factory=dict)

    def describe(self, confidence: float | None = None) -> str:
        confidence = self.options.get("confidence", 0.95) if confidence is None else confidence
        if self.num_measures < 3 or pd.isna(self.rho):
            return (f"Thresholding vs EWC: {self.num_measures} measures in both experiments; at least 3 are needed "
                    "for a rank correlation.")
        o = self.options
        return (f"Thresholding vs EWC ({o.get('task')}): Spearman rho = {self.rho:.3f} "
                f"[{100 * confidence:g}% CI {self.ci_low:.3f}, {self.ci_high:.3f}; {o.get('ci_method')}] over "
                f"{self.num_measures} measures (p = {self.p_value:.3g}); thresholding {o.get('metric')} at epoch "
                f"{o.get('epoch')}, {o.get('aggregation_level')}/{o.get('aggregation_method')}, scope "
                f"{o.get('scope')}, order {o.get('order')}, replacement {o.get('replacement')}; EWC "
                f"{o.get('ewc_metric')} at each measure's best lambda. +1: the same ordering.")


def thresholding_vs_ewc(thresholding_df: pd.DataFrame, sequential_df: pd.DataFrame, *, task: str | None = None,
                        sequence: str | None = None, epoch: int | None = None, aggregation_level: str = "weight",
                        aggregation_method: str | None = None, scope: str | None = None, order: str = "least",
                        replacement: str | None = None, metric: str = "normalized_auc",
                        ewc_metric: str = "forgetting", criterion: str = "average_accuracy",
                        confidence: float = 0.95, ci_method: str = "bootstrap", num_resamples: int = 2000,
                        seed: int = 0, tolerance: float = DEFAULT_TOLERANCE) -> ThresholdingVsEWC:
    """Rank correlation between the measures' thresholding and EWC rankings (see the module docstring).

    ``thresholding_df``: thresholding results (``Analysis.load_results``) or their per-trial metrics
    (``Analysis.trial_metrics``). ``sequential_df``: sequential results (``load_sequential``) or ``run_metrics``.
    ``task``/``sequence`` choose one when several are present (default: the only one; the task must be in both).
    Unset thresholding settings (``epoch``: the last; ``scope``, ``replacement``, ``aggregation_method``) take the
    only value present, or ``layer``, ``noise`` and ``none``/``mean`` when there are several.
    """
    if ci_method not in BRIDGE_CI_METHODS:
        raise ValueError(f"Unknown ci_method {ci_method!r}; valid: {list(BRIDGE_CI_METHODS)}.")
    if ewc_metric not in EWC_METRICS:
        raise ValueError(f"Unknown ewc_metric {ewc_metric!r}; valid: {list(EWC_METRICS)}.")
    thresholding = (thresholding_df if metric in thresholding_df.columns
                    else trial_metrics(thresholding_df, tolerance=tolerance))
    ewc = sequential_df if ewc_metric in sequential_df.columns else run_metrics(sequential_df)

    task = _only("task", task, sorted(set(ewc["task"]) & set(thresholding["task"])), "in both experiments")
    ewc = ewc[ewc["task"] == task]
    sequence = _only("sequence", sequence, sorted(ewc["sequence"].unique()), f"for task {task!r}")
    ewc = at_best_lambda(ewc[ewc["sequence"] == sequence], criterion)
    thresholding = thresholding[thresholding["task"] == task]
    epoch = int(thresholding["epoch"].max()) if epoch is None else int(epoch)
    default_method = "none" if aggregation_level == "weight" else "mean"
    settings = {"epoch": epoch, "aggregation_level": aggregation_level,
                "aggregation_method": aggregation_method, "scope": scope, "order": order, "replacement": replacement}
    defaults = {"aggregation_method": default_method, "scope": "layer", "replacement": "noise"}
    for column, wanted in settings.items():
        available = sorted(pd.unique(thresholding[column]).tolist(), key=str)
        if wanted is None:
            wanted = available[0] if len(available) == 1 else defaults[column]
            settings[column] = wanted
        if wanted not in available:
            raise ValueError(f"The thresholding results of task {task!r} have no {column} {wanted!r}; available: "
                             f"{available}.")
        thresholding = thresholding[thresholding[column] == wanted]
    sign = 1.0 if lower_is_better(metric, order) else -1.0
    thresholding = thresholding.assign(_score=sign * thresholding[metric])
    ewc = ewc.assign(_score=(-1.0 if HIGHER_IS_BETTER[ewc_metric] else 1.0) * ewc[ewc_metric])

    measures = sorted(set(thresholding["measure"]) & set(ewc["measure"]))
    thresholding = thresholding[thresholding["measure"].isin(measures)]
    ewc = ewc[ewc["measure"].isin(measures)]
    t_scores = _score_table(thresholding)
    e_scores = _score_table(ewc)
    t_means, e_means = t_scores.mean(axis=0), e_scores.mean(axis=0)
    table = pd.DataFrame({
        "measure": measures,
        "thresholding_score": [t_means[m] for m in measures],
        "ewc_score": [e_means[m] for m in measures],
        "lambda": [float(ewc.loc[ewc["measure"] == m, "lambda"].iloc[0]) for m in measures],
        "thresholding_trials": [int(t_scores[m].notna().sum()) for m in measures],
        "ewc_trials": [int(e_scores[m].notna().sum()) for m in measures],
    })
    table["thresholding_rank"] = table["thresholding_score"].rank(method="average")
    table["ewc_rank"] = table["ewc_score"].rank(method="average")
    options = {**settings, "task": task, "sequence": sequence, "metric": metric, "ewc_metric": ewc_metric,
               "criterion": criterion, "confidence": confidence, "ci_method": ci_method,
               "num_resamples": num_resamples}
    count = len(measures)
    if count < 3:
        return ThresholdingVsEWC(np.nan, np.nan, np.nan, np.nan, count, table, options)
    rho, p_value = _spearman(table["thresholding_score"].to_numpy(), table["ewc_score"].to_numpy())
    if ci_method == "fisher_z":
        low, high = _fisher_z_interval(rho, count, confidence)
    else:
        low, high = _bootstrap_interval(t_scores[measures].to_numpy(), e_scores[measures].to_numpy(), confidence,
                                        num_resamples, seed)
    return ThresholdingVsEWC(float(rho), low, high, float(p_value), count, table, options)


def _only(column: str, wanted, available: list, where: str):
    if wanted is not None:
        if wanted not in available:
            raise ValueError(f"No {column} {wanted!r} {where}; available: {available}.")
        return wanted
    if not available:
        raise ValueError(f"No {column} {where}: the two experiments must share a task.")
    if len(available) > 1:
        raise ValueError(f"{len(available)} values of {column} {where} ({available}); choose one with {column}=... .")
    return available[0]


def _score_table(data: pd.DataFrame) -> pd.DataFrame:
    """trials x measures of ``_score`` (a trial is the (trial, seed) of one experiment)."""
    return data.pivot_table(index="trial", columns="measure", values="_score", aggfunc="mean")


def _spearman(x, y) -> tuple[float, float]:
    if np.all(x == x[0]) or np.all(y == y[0]):
        return np.nan, np.nan
    result = stats.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def _fisher_z_interval(rho: float, count: int, confidence: float) -> tuple[float, float]:
    if count < 4 or not np.isfinite(rho):
        return np.nan, np.nan
    if abs(rho) >= 1:  # z = ±inf: every interval around it is the point itself
        return float(rho), float(rho)
    z = np.arctanh(rho)
    half = stats.norm.ppf((1 + confidence) / 2) * math.sqrt(1.06 / (count - 3))
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _bootstrap_interval(thresholding: np.ndarray, ewc: np.ndarray, confidence: float, num_resamples: int,
                        seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_resamples):
        t = np.nanmean(thresholding[rng.integers(0, len(thresholding), len(thresholding))], axis=0)
        e = np.nanmean(ewc[rng.integers(0, len(ewc), len(ewc))], axis=0)
        if np.all(np.isfinite(t)) and np.all(np.isfinite(e)):
            rho, _ = _spearman(t, e)
            if np.isfinite(rho):
                values.append(rho)
    if len(values) < 2:
        return np.nan, np.nan
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


# -- figures ---------------------------------------------------------------------------------------------------
def plot_accuracy_matrices(matrices: dict[tuple, np.ndarray], out_dir) -> list[Path]:
    """One heat map per (task, sequence): a panel per measure with its mean accuracy matrix at its best λ."""
    out_dir = Path(out_dir)
    written = []
    groups: dict[tuple, list] = {}
    for (task, sequence, measure, value), matrix in matrices.items():
        groups.setdefault((task, sequence), []).append((measure, value, matrix))
    for (task, sequence), panels in sorted(groups.items()):
        columns = min(len(panels), 4)
        rows = math.ceil(len(panels) / columns)
        figure = Figure(figsize=(3.2 * columns + 0.8, 3.0 * rows), dpi=DPI, layout="constrained")
        axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()
        image = None
        for ax, (measure, value, matrix) in zip(axes, panels):
            image = ax.imshow(np.ma.masked_invalid(matrix), vmin=0.0, vmax=1.0, cmap="viridis")
            for (i, j), accuracy in np.ndenumerate(matrix):
                if np.isfinite(accuracy):
                    ax.text(j, i, f"{accuracy:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if accuracy < 0.6 else "black")
            ax.set_title(f"{measure} (λ={value:g})", fontsize=9)
            ax.set_xlabel("evaluated task")
            ax.set_ylabel("after training task")
            ax.set_xticks(range(len(matrix)))
            ax.set_yticks(range(len(matrix)))
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        if image is not None:
            figure.colorbar(image, ax=list(axes[:len(panels)]), shrink=0.8, label="accuracy")
        figure.suptitle(f"{task}, {sequence}: mean accuracy matrix at the best λ")
        written.append(_save(figure, out_dir / f"{paths.safe_name('accuracy_matrices', task, sequence)}.png"))
    return written


def plot_forgetting(summary: pd.DataFrame, out_dir, confidence: float = 0.95) -> list[Path]:
    """Forgetting per measure at its best λ with its confidence interval, one figure per (task, sequence)."""
    out_dir = Path(out_dir)
    written = []
    for (task, sequence), group in summary.groupby(["task", "sequence"], sort=True):
        group = group.sort_values("forgetting_mean", kind="stable")
        mean = group["forgetting_mean"].to_numpy(float)
        low = np.where(np.isnan(group["forgetting_ci_low"]), mean, group["forgetting_ci_low"])
        high = np.where(np.isnan(group["forgetting_ci_high"]), mean, group["forgetting_ci_high"])
        figure = Figure(figsize=(1.0 + 0.9 * len(group), 3.6), dpi=DPI, layout="constrained")
        ax = figure.subplots()
        palette = colormaps["tab10"]
        colours = ["black" if m == NO_PENALTY else palette(i % 10) for i, m in enumerate(group["measure"])]
        ax.bar(range(len(group)), mean, yerr=[mean - low, high - mean], color=colours, capsize=4)
        ax.set_xticks(range(len(group)))
        ax.set_xticklabels([f"{m}\nλ={v:g}" for m, v in zip(group["measure"], group["lambda"])], fontsize=8)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_ylabel("forgetting")
        ax.set_title(f"{task}, {sequence}: forgetting at the best λ ({100 * confidence:g}% CI over trials)",
                     fontsize=9)
        written.append(_save(figure, out_dir / f"{paths.safe_name('forgetting', task, sequence)}.png"))
    return written


def plot_lambda_sweep(sweep: pd.DataFrame, out_dir) -> list[Path]:
    """Average accuracy and forgetting against λ, one line per measure, one figure per (task, sequence)."""
    out_dir = Path(out_dir)
    written = []
    for (task, sequence), group in sweep.groupby(["task", "sequence"], sort=True):
        figure = Figure(figsize=(9, 3.6), dpi=DPI, layout="constrained")
        axes = figure.subplots(1, 2)
        palette = colormaps["tab10"]
        for i, (measure, line) in enumerate(group.groupby("measure", sort=True)):
            line = line.sort_values("lambda")
            for ax, name in zip(axes, ("average_accuracy", "forgetting")):
                x = line["lambda"].to_numpy(float)
                y = line[f"{name}_mean"].to_numpy(float)
                if measure == NO_PENALTY:
                    ax.axhline(y[0], color="black", linestyle="--", label=measure)
                else:
                    ax.plot(x, y, marker="o", color=palette(i % 10), label=measure)
        for ax, name in zip(axes, ("average accuracy after the last task", "forgetting")):
            ax.set_xscale("symlog", linthresh=max(float(group.loc[group["lambda"] > 0, "lambda"].min()), 1e-6)
                          if (group["lambda"] > 0).any() else 1.0)
            ax.set_xlabel("λ")
            ax.set_ylabel(name)
        axes[1].legend(fontsize=8)
        figure.suptitle(f"{task}, {sequence}: λ sweep (means over trials)")
        written.append(_save(figure, out_dir / f"{paths.safe_name('lambda_sweep', task, sequence)}.png"))
    return written


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path)
    return path


# -- the whole analysis ---------------------------------------------------------------------------------------------
@dataclass
class SequentialAnalysis:
    """Every table of one sequential analysis, and the bridge to a thresholding analysis when given."""

    metrics: pd.DataFrame
    sweep: pd.DataFrame
    summary: pd.DataFrame
    matrices: dict
    bridge: ThresholdingVsEWC | None = None
    options: dict = field(default_factory=dict)


def analyze_sequential(results: pd.DataFrame, thresholding: pd.DataFrame | None = None, confidence: float = 0.95,
                       ci_method: str = "t", **bridge_options) -> SequentialAnalysis:
    """Per-run metrics, the λ sweep, the summary at the best λ, mean accuracy matrices and, with thresholding
    results of the same task, ``thresholding_vs_ewc`` (``bridge_options`` are its options)."""
    metrics = run_metrics(results)
    incomplete = metrics[~metrics["complete"]]
    if not incomplete.empty:
        warnings.warn(f"{len(incomplete)} runs are incomplete (cut short) and left out.", stacklevel=2)
    metrics = metrics[metrics["complete"]].reset_index(drop=True)
    if metrics.empty:
        raise ValueError("No complete run in the sequential results.")
    bridge = None
    if thresholding is not None:
        bridge = thresholding_vs_ewc(thresholding, metrics, confidence=confidence, **bridge_options)
    return SequentialAnalysis(
        metrics=metrics,
        sweep=lambda_sweep(metrics, confidence, ci_method),
        summary=sequential_summary(metrics, confidence, ci_method),
        matrices=mean_accuracy_matrices(results, metrics),
        bridge=bridge,
        options={"confidence": confidence, "ci_method": ci_method},
    )


def save_sequential_analysis(analysis: SequentialAnalysis, out_dir) -> dict[str, list[Path]]:
    """Tables (CSV), figures (PNG) and ``sequential_report.md`` in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {SEQUENTIAL_SUMMARY_CSV: analysis.summary, SEQUENTIAL_RUN_METRICS_CSV: analysis.metrics,
              SEQUENTIAL_LAMBDA_SWEEP_CSV: analysis.sweep}
    if analysis.bridge is not None:
        tables[THRESHOLDING_VS_EWC_CSV] = analysis.bridge.table.assign(
            rho=analysis.bridge.rho, rho_ci_low=analysis.bridge.ci_low, rho_ci_high=analysis.bridge.ci_high,
            p_value=analysis.bridge.p_value)
    written = {"tables": []}
    for name, table in tables.items():
        table.to_csv(out_dir / name, index=False)
        written["tables"].append(out_dir / name)
    confidence = analysis.options.get("confidence", 0.95)
    written["accuracy_matrices"] = plot_accuracy_matrices(analysis.matrices, out_dir)
    written["forgetting"] = plot_forgetting(analysis.summary, out_dir, confidence)
    written["lambda_sweep"] = plot_lambda_sweep(analysis.sweep, out_dir)
    written["report"] = [_write_report(analysis, out_dir, written)]
    return written


def run_sequential_analysis(csv_paths, out_dir, thresholding_paths=None, confidence: float = 0.95,
                            ci_method: str = "t", **bridge_options) -> SequentialAnalysis:
    """Load, analyse and save (what ``Data Analysis.py --sequential`` runs)."""
    from Analysis.loading import load_results

    results = load_sequential(csv_paths)
    thresholding = load_results(thresholding_paths) if thresholding_paths else None
    analysis = analyze_sequential(results, thresholding, confidence=confidence, ci_method=ci_method,
                                  **bridge_options)
    save_sequential_analysis(analysis, out_dir)
    return analysis


def _write_report(analysis: SequentialAnalysis, out_dir: Path, written: dict) -> Path:
    confidence = analysis.options.get("confidence", 0.95)
    lines = ["# Sequential learning analysis", "",
             "Metrics from the accuracy matrix R[i, j] (task j after training task i): average accuracy after the "
             "last task, forgetting (largest earlier accuracy minus the final one, averaged over all but the last "
             "task), backward transfer (Lopez-Paz & Ranzato 2017). Each measure at its best λ (highest mean "
             f"average accuracy); {100 * confidence:g}% t-intervals over trials; p: paired t-test of the "
             "forgetting against `none`.", "", "## Summary at the best λ", "",
             "```",
             format_sequential_summary(analysis.summary, confidence=confidence), "```", ""]
    for kind in ("accuracy_matrices", "forgetting", "lambda_sweep"):
        for path in written.get(kind, []):
            lines += [f"![{path.stem}]({path.name})", ""]
    if analysis.bridge is not None:
        table = analysis.bridge.table.copy()
        for column in ("thresholding_score", "ewc_score"):
            table[column] = table[column].map(lambda v: f"{v:.4f}")
        lines += ["## Thresholding vs EWC", "", analysis.bridge.describe(confidence), "", markdown_table(table), ""]
    sweep = analysis.sweep.copy()
    sweep["forgetting"] = _intervals(sweep, "forgetting", 3)
    sweep["average accuracy"] = _intervals(sweep, "average_accuracy", 3)
    lines += ["## λ sweep", "", markdown_table(sweep[["task", "sequence", "measure", "lambda", "num_trials",
                                                     "forgetting", "average accuracy"]]), ""]
    path = out_dir / SEQUENTIAL_REPORT_MARKDOWN
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _intervals(table: pd.DataFrame, name: str, digits: int) -> list[str]:
    return [interval_text(m, lo, hi, digits) for m, lo, hi in
            zip(table[f"{name}_mean"], table[f"{name}_ci_low"], table[f"{name}_ci_high"])]
