"""Pairwise comparisons of measures across trials, with Holm's correction within each group.

Within a group (``GROUP_KEYS``: task, epoch, aggregation, scope, order, parameters, replacement) every pair of
measures is compared on a per-trial metric (normalized AUC by default) with a paired test across the trials that
hold both (paired t-test by default; see ``Analysis.statistics``). The family for Holm's correction is every pair of
distinct measures of the group. A measure compared with itself is reported with p = 1 and never counts in a family.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from Analysis.columns import GROUP_KEYS, lower_is_better, with_optional_columns
from Analysis.statistics import holm_correction, paired_test
from Analysis.summary import DEFAULT_METRIC
from Schema import BASELINE_MEASURE

DEFAULT_ALPHA = 0.05


def compare_measures(metrics: pd.DataFrame, metric: str = DEFAULT_METRIC, test: str = "t",
                     alpha: float = DEFAULT_ALPHA, baseline: str = BASELINE_MEASURE) -> pd.DataFrame:
    """One row per group and unordered pair of measures ``(measure_a, measure_b)``.

    Measures are listed best first by mean ``metric``; a pair with the ``baseline`` always has the baseline as
    ``measure_b`` so the statement reads "X is better/worse than random". Columns: the ``GROUP_KEYS``,
    ``measure_a``, ``measure_b``, ``metric``, ``test``, ``num_pairs``, ``mean_a``, ``mean_b``, ``mean_difference``
    (mean of a - b over paired trials), ``statistic``, ``p_value``, ``p_holm``, ``effect_size`` (Cohen's d_z of
    a - b), ``rank_biserial``, ``significant`` (``p_holm < alpha``), ``better`` (the better measure when
    significant, else ""), ``statement``, ``reason`` (why a test gave a stated NaN or exact result, e.g.
    constant paired differences; "" otherwise).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}.")
    rows = []
    for keys, group in with_optional_columns(metrics).groupby(list(GROUP_KEYS), sort=True, dropna=False):
        context = dict(zip(GROUP_KEYS, keys))
        lower = lower_is_better(metric, context["order"])
        table = group.pivot_table(index="trial", columns="measure", values=metric, aggfunc="mean", dropna=False)
        means = table.mean(axis=0, skipna=True)
        ordered = sorted(table.columns, key=lambda m: (np.inf if np.isnan(means[m]) else (means[m] if lower else
                                                                                          -means[m]), m))
        group_rows = []
        for measure_a, measure_b in itertools.combinations(ordered, 2):
            if measure_a == baseline:
                measure_a, measure_b = measure_b, measure_a
            result = paired_test(table[measure_a].to_numpy(), table[measure_b].to_numpy(), test=test)
            group_rows.append({
                **context,
                "measure_a": measure_a,
                "measure_b": measure_b,
                "metric": metric,
                "test": test,
                "num_pairs": result.num_pairs,
                "mean_a": float(means[measure_a]),
                "mean_b": float(means[measure_b]),
                "mean_difference": result.mean_difference,
                "statistic": result.statistic,
                "p_value": result.p_value,
                "effect_size": result.effect_size,
                "rank_biserial": result.rank_biserial,
                "reason": result.reason,
            })
        adjusted = holm_correction([row["p_value"] for row in group_rows])
        for row, p_holm in zip(group_rows, adjusted):
            row["p_holm"] = float(p_holm)
            row["significant"] = bool(p_holm < alpha)
            a_better = row["mean_difference"] < 0 if lower else row["mean_difference"] > 0
            row["better"] = (row["measure_a"] if a_better else row["measure_b"]) if row["significant"] else ""
            row["statement"] = _statement(row)
        rows.extend(group_rows)
    columns = [*GROUP_KEYS, "measure_a", "measure_b", "metric", "test", "num_pairs", "mean_a", "mean_b",
               "mean_difference", "statistic", "p_value", "p_holm", "effect_size", "rank_biserial", "significant",
               "better", "statement", "reason"]
    return pd.DataFrame(rows, columns=columns)


def significance_matrix(comparisons: pd.DataFrame, measures=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For the comparisons of ONE group: the square matrix of Holm p-values (1 on the diagonal) and the matrix of
    outcomes (+1: the row measure is significantly better than the column measure, -1: worse, 0: neither).
    """
    columns = [c for c in GROUP_KEYS if c in comparisons.columns]
    if len(comparisons[columns].drop_duplicates()) > 1:
        raise ValueError("significance_matrix takes the comparisons of one group; select one group first.")
    if measures is None:
        measures = list(dict.fromkeys([*comparisons["measure_a"], *comparisons["measure_b"]]))
    p_values = pd.DataFrame(np.nan, index=measures, columns=measures)
    outcome = pd.DataFrame(0, index=measures, columns=measures)
    for measure in measures:
        p_values.loc[measure, measure] = 1.0
    for row in comparisons.itertuples(index=False):
        a, b = row.measure_a, row.measure_b
        if a not in p_values.index or b not in p_values.index:
            continue
        p_values.loc[a, b] = p_values.loc[b, a] = row.p_holm
        if row.significant:
            sign = 1 if row.better == a else -1
            outcome.loc[a, b], outcome.loc[b, a] = sign, -sign
    return p_values, outcome


def significance_statements(comparisons: pd.DataFrame, only_significant: bool = False,
                            with_group: bool = False) -> list[str]:
    """The plain-language statements of ``comparisons`` (the significant ones only if asked), each prefixed with
    its group (``[task, epoch 3, unit/mean, least, scope layer, all, noise] ...``) if ``with_group``."""
    rows = comparisons[comparisons["significant"]] if only_significant else comparisons
    if not with_group:
        return rows["statement"].tolist()
    return [
        f"[{row.task}, epoch {row.epoch}, {row.aggregation_level}/{row.aggregation_method}, {row.order}, "
        f"scope {row.scope}, {row.parameters}, {row.replacement}] {row.statement}"
        for row in rows.itertuples(index=False)
    ]


def small_sample_note(comparisons: pd.DataFrame, alpha: float = DEFAULT_ALPHA) -> str | None:
    """A warning when the chosen rank test cannot reach ``alpha`` with so few trials (smallest p = 2 / 2**n)."""
    if comparisons.empty or comparisons["test"].iloc[0] not in ("wilcoxon", "permutation"):
        return None
    num_pairs = int(comparisons["num_pairs"].max())
    if num_pairs < 1 or 2.0 / 2 ** num_pairs < alpha:
        return None
    return (f"With at most {num_pairs} paired trials the {comparisons['test'].iloc[0]} test cannot reach "
            f"p < {alpha:g} (its smallest p-value is 2/2^n = {2.0 / 2 ** num_pairs:.3g}); use the paired t-test "
            "(--test t) or run more trials.")


def _statement(row: dict) -> str:
    a, b = row["measure_a"], row["measure_b"]
    if row["num_pairs"] >= 2 and np.isnan(row["p_holm"]) and row.get("reason"):
        return f"{a} vs {b}: not tested, {row['reason']} (n={row['num_pairs']})"
    if row["num_pairs"] < 2 or np.isnan(row["p_holm"]):
        return f"{a} vs {b}: too few paired trials with a value (n={row['num_pairs']}) to test"
    details = f"p_holm={row['p_holm']:.3g}, |d_z|={_effect(abs(row['effect_size']))}, n={row['num_pairs']}"
    if not row["significant"]:
        return f"no significant difference between {a} and {b} ({details})"
    relation = "better" if row["better"] == a else "worse"
    return f"{a} is {relation} than {b} ({details})"


def _effect(value: float) -> str:
    if np.isnan(value):
        return "nan"
    if np.isinf(value):
        return "inf"
    return f"{value:.2f}"
