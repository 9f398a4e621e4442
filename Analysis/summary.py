"""Across-trial summaries of the per-trial metrics, the ranking of measures, and the summary table."""

from __future__ import annotations

import pandas as pd

from Analysis.columns import CURVE_KEYS, GROUP_KEYS, METRIC_BOUNDS, lower_is_better, with_optional_columns
from Analysis.metrics import METRIC_COLUMNS
from Analysis.statistics import summarize_values

DEFAULT_METRIC = "normalized_auc"

SUMMARY_COLUMNS = (
    *GROUP_KEYS[:2], "measure", *GROUP_KEYS[2:], "rank", "num_trials", "auc_mean", "normalized_auc_mean",
    "normalized_auc_ci_low", "normalized_auc_ci_high", "max_fraction_within_tolerance_mean",
    "max_fraction_within_tolerance_ci_low", "max_fraction_within_tolerance_ci_high",
)


def summarize_metrics(metrics: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t",
                      metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """One row per curve (``CURVE_KEYS``): ``num_trials`` and, for each of ``auc``, ``normalized_auc`` and
    ``max_fraction_within_tolerance``, ``<name>_mean``, ``<name>_std`` and the ``confidence`` interval of the mean
    ``<name>_ci_low``, ``<name>_ci_high`` (t-interval by default, see ``statistics.confidence_interval``; the max
    fraction within tolerance, bounded to [0, 1], gets the logit-transformed t-interval, or with
    ``ci_method="bootstrap"`` the percentile bootstrap, both inside [0, 1] without clipping); plus the ``rank`` of
    the measure in its group by the mean of ``metric`` (``rank_measures``).
    """
    rows = []
    for keys, curve in with_optional_columns(metrics).groupby(list(CURVE_KEYS), sort=True, dropna=False):
        row = dict(zip(CURVE_KEYS, keys))
        row["num_trials"] = int(curve["trial"].nunique())
        for name in METRIC_COLUMNS:
            described = summarize_values(curve[name].to_numpy(dtype=float), confidence, ci_method,
                                         bounds=METRIC_BOUNDS.get(name))
            row.update({f"{name}_{key}": value for key, value in described.items()})
        rows.append(row)
    return rank_measures(pd.DataFrame(rows), metric)


def rank_measures(summary: pd.DataFrame, metric: str = DEFAULT_METRIC) -> pd.DataFrame:
    """``summary`` with a ``rank`` column: 1 = best measure of its group (``GROUP_KEYS``) by ``<metric>_mean``.

    For order ``least`` a lower normalized AUC (or AUC) is better, for ``most`` a higher one; for
    ``max_fraction_within_tolerance`` the reverse. Ties share the smallest rank; a NaN mean gets no rank.
    """
    column = f"{metric}_mean"
    if column not in summary.columns:
        raise ValueError(f"Cannot rank by {metric!r}: the summary has no column {column!r}.")
    summary = summary.copy()
    sign = summary["order"].map(lambda order: 1.0 if lower_is_better(metric, order) else -1.0)
    summary["_score"] = sign * summary[column]
    summary["rank"] = (
        summary.groupby(list(GROUP_KEYS), dropna=False)["_score"].rank(method="min", ascending=True).astype("Int64")
    )
    return summary.drop(columns="_score")


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The compact table (``SUMMARY_COLUMNS``) of a ``summarize_metrics`` result, sorted by group then rank."""
    table = summary[list(SUMMARY_COLUMNS)]
    return table.sort_values([*GROUP_KEYS, "rank", "measure"], kind="stable", na_position="last").reset_index(drop=True)


def format_summary(summary: pd.DataFrame, digits: int = 3, confidence: float = 0.95) -> str:
    """The summary table as aligned text: normalized AUC as ``mean [low, high]`` (the ``confidence`` interval);
    the max fraction within tolerance for order ``least`` only (``tolerance_fraction_shown``)."""
    table = summary_table(summary)
    shown = table[[*GROUP_KEYS[:2], "measure", *GROUP_KEYS[2:], "rank", "num_trials"]].copy()
    shown = shown.rename(columns={"aggregation_level": "level", "aggregation_method": "method",
                                  "num_trials": "trials"})
    shown["auc"] = table["auc_mean"].map(lambda v: _number(v, digits))
    shown[f"normalized_auc [{100 * confidence:g}% CI]"] = interval_column(table, "normalized_auc", digits)
    shown["max_fraction_within_tolerance"] = [
        _number(v, digits) if tolerance_fraction_shown(order) else "" for v, order in
        zip(table["max_fraction_within_tolerance_mean"], table["order"])]
    shown["rank"] = shown["rank"].map(lambda v: "-" if pd.isna(v) else str(int(v)))
    return shown.to_string(index=False)


def tolerance_fraction_shown(order: str) -> bool:
    """Whether the max fraction within tolerance is reported for ``order``: only when the least important weights
    go first; removing the most important first, the loss leaves the tolerance at once for every measure."""
    return order == "least"


def interval_text(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``mean [low, high]``; just the mean when the interval is undefined; ``mean (all trials equal)`` when the
    interval has zero width, which is no interval at all (every trial gave the same value)."""
    if pd.isna(low) or pd.isna(high):
        return _number(mean, digits)
    if low == high:
        return f"{_number(mean, digits)} (all trials equal)"
    return f"{_number(mean, digits)} [{_number(low, digits)}, {_number(high, digits)}]"


def interval_column(table: pd.DataFrame, name: str, digits: int = 3) -> list[str]:
    """``interval_text`` of every row of ``table`` from its columns ``<name>_mean``, ``<name>_ci_low``,
    ``<name>_ci_high``."""
    return [interval_text(mean, low, high, digits) for mean, low, high in
            zip(table[f"{name}_mean"], table[f"{name}_ci_low"], table[f"{name}_ci_high"])]


def _number(value: float, digits: int) -> str:
    return "nan" if pd.isna(value) else f"{value:.{digits}f}"
