"""Thresholding vs EWC: how the measures' thresholding ranking relates to their ranking as EWC importances.

For one task, the Spearman rank correlation across the measures present in both experiments between their
thresholding score (mean per-trial ``normalized_auc`` at one epoch, aggregation level, scope, order and
replacement; default order ``least`` at weight level) and their EWC score (mean forgetting at their best λ). Both
scores are oriented so that lower is better, so ρ = +1 means the measure that best finds the weights a model can
lose is also the one that best protects an old task. Confidence interval: a percentile bootstrap over trials (each
experiment's trials resampled independently, the measure means and ρ recomputed; default), or Fisher's z with the
variance 1.06 / (n - 3) of Spearman's ρ over n measures (Fieller, Hartley & Pearson 1957). The bootstrap interval
says how much ρ moves with the trials drawn (measures of one trial share its seed, so their differences are
paired); the p-value (``scipy.stats.spearmanr``) and the Fisher-z interval treat the measures themselves as the
sample. With few trials the bootstrap has few distinct resamples (10 per experiment with 3 trials): read it as a
rough guide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from Analysis.columns import lower_is_better, with_optional_columns
from Analysis.metrics import DEFAULT_TOLERANCE, trial_metrics
from Analysis.sequential_metrics import EWC_METRICS, HIGHER_IS_BETTER, at_best_lambda, run_metrics
from Schema import ALL_PARAMETERS, NO_AGGREGATION

BRIDGE_CI_METHODS = ("bootstrap", "fisher_z")


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
                f"{o.get('scope')}, order {o.get('order')}, parameters {o.get('parameters')}, replacement "
                f"{o.get('replacement')}; EWC "
                f"{o.get('ewc_metric')} at each measure's best lambda. +1: the same ordering.")


def thresholding_vs_ewc(thresholding_df: pd.DataFrame, sequential_df: pd.DataFrame, *, task: str | None = None,
                        sequence: str | None = None, epoch: int | None = None, aggregation_level: str = "weight",
                        aggregation_method: str | None = None, scope: str | None = None, order: str = "least",
                        parameters: str | None = None, replacement: str | None = None, metric: str = "normalized_auc",
                        ewc_metric: str = "forgetting", criterion: str = "average_accuracy",
                        confidence: float = 0.95, ci_method: str = "bootstrap", num_resamples: int = 2000,
                        seed: int = 0, tolerance: float = DEFAULT_TOLERANCE) -> ThresholdingVsEWC:
    """Rank correlation between the measures' thresholding and EWC rankings (see the module docstring).

    ``thresholding_df``: thresholding results (``Analysis.load_results``) or their per-trial metrics
    (``Analysis.trial_metrics``). ``sequential_df``: sequential results (``load_sequential``) or ``run_metrics``.
    ``task``/``sequence`` choose one when several are present (default: the only one; the task must be in both).
    Unset thresholding settings (``epoch``: the last; ``scope``, ``parameters``, ``replacement``,
    ``aggregation_method``) take the only value present, or ``layer``, ``all``, ``noise`` and ``none``/``mean``
    when there are several.
    """
    if ci_method not in BRIDGE_CI_METHODS:
        raise ValueError(f"Unknown ci_method {ci_method!r}; valid: {list(BRIDGE_CI_METHODS)}.")
    if ewc_metric not in EWC_METRICS:
        raise ValueError(f"Unknown ewc_metric {ewc_metric!r}; valid: {list(EWC_METRICS)}.")
    thresholding = with_optional_columns(thresholding_df if metric in thresholding_df.columns
                                         else trial_metrics(thresholding_df, tolerance=tolerance))
    ewc = sequential_df if ewc_metric in sequential_df.columns else run_metrics(sequential_df)

    task = _only("task", task, sorted(set(ewc["task"]) & set(thresholding["task"])), "in both experiments")
    ewc = ewc[ewc["task"] == task]
    sequence = _only("sequence", sequence, sorted(ewc["sequence"].unique()), f"for task {task!r}")
    ewc = at_best_lambda(ewc[ewc["sequence"] == sequence], criterion)
    thresholding = thresholding[thresholding["task"] == task]
    epoch = int(thresholding["epoch"].max()) if epoch is None else int(epoch)
    default_method = NO_AGGREGATION if aggregation_level == "weight" else "mean"
    settings = {"epoch": epoch, "aggregation_level": aggregation_level,
                "aggregation_method": aggregation_method, "scope": scope, "order": order, "parameters": parameters,
                "replacement": replacement}
    defaults = {"aggregation_method": default_method, "scope": "layer", "parameters": ALL_PARAMETERS,
                "replacement": "noise"}
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
    """By hand: SciPy's Fisher-z interval (``pearsonr(...).confidence_interval``) has Pearson's variance 1/(n-3)."""
    if count < 4 or not np.isfinite(rho):
        return np.nan, np.nan
    if abs(rho) >= 1:  # z = ±inf: every interval around it is the point itself
        return float(rho), float(rho)
    z = np.arctanh(rho)
    half = stats.norm.ppf((1 + confidence) / 2) * math.sqrt(1.06 / (count - 3))
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def _bootstrap_interval(thresholding: np.ndarray, ewc: np.ndarray, confidence: float, num_resamples: int,
                        seed: int) -> tuple[float, float]:
    """By hand: resamples where ρ is undefined (a measure with no score in the trials drawn, or every mean tied)
    are left out, where ``scipy.stats.bootstrap`` would make the whole interval NaN."""
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
