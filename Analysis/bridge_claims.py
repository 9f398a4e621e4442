"""The bridge study's claims as a paper makes them: one primary test, declared before the data; every other test
secondary and Holm-adjusted within its family; every measure whose λ was chosen at an edge of its grid marked.

**Primary hypothesis** (``Primary``; declared by the study's configuration, ``BridgeConfig.primary_*``, read by
``bridge_inputs.declared_primary``): one thresholding metric at one aggregation level ranks the measures as one EWC
score does, each measure at its λ chosen on the held-out selection split. Its test is the one-sample t-test of the
per-trial Spearman ρ on Fisher's z scale (``statistics.fisher_z_interval``; H0: the typical per-trial ρ is 0),
stated with that scale's t-interval: one test, so its p is not adjusted (``per_trial_p_holm`` = its raw p).

**Families**, each Holm-adjusted within itself (Holm 1979, ``statistics.holm_correction``), over the rows of the
correlation table (``FAMILIES``):
- *secondary*: the same per-trial test of every other row, i.e. every setting (aggregation level, method, scope,
  ...) × thresholding metric × EWC score × λ choice (the selected λ and each fixed λ) but the primary;
- *ρ of the means*: the permutation test over measures of Spearman's ρ of the measures' mean scores, every row
  (the primary's too: it is another statistic, not the declared test);
- *τ of the means*: the same for Kendall's τ-b.
Nothing is called significant on a raw p except the primary's.

**λ at an edge**: a measure whose selected λ is the smallest or largest of the λ values run for it (which may
differ between measures) may be at the wrong strength, its optimum beyond the grid; ``mark_lambda_edges`` says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from Analysis.statistics import holm_correction
from Schema import BRIDGE_EWC_SCORES, BRIDGE_PRIMARY, BRIDGE_THRESHOLDING_METRICS

PRIMARY, SECONDARY = "primary", "secondary"
# raw p column -> (its Holm-adjusted column, the family it is adjusted within)
FAMILIES = {
    "per_trial_p_raw": ("per_trial_p_holm", "secondary: the per-trial Fisher-z t-test of every row but the primary "
                                            "(every setting × thresholding metric × EWC score × λ choice)"),
    "spearman_p_raw": ("spearman_p_holm", "the permutation test of Spearman's ρ of the mean scores, every row"),
    "kendall_p_raw": ("kendall_p_holm", "the permutation test of Kendall's τ of the mean scores, every row"),
}
LAMBDA_EDGE_NOTE = ("λ at an edge of its grid: the selected λ is the smallest or largest run for that measure, so "
                    "it was possibly judged at the wrong strength (its best λ may lie beyond the grid)")


@dataclass(frozen=True)
class Primary:
    """The primary hypothesis (module docstring) and where it comes from (``source``)."""

    thresholding_metric: str = BRIDGE_PRIMARY["primary_thresholding_metric"]
    ewc_score: str = BRIDGE_PRIMARY["primary_ewc_score"]
    aggregation_level: str = BRIDGE_PRIMARY["primary_aggregation_level"]
    source: str = "the default"

    def __post_init__(self):
        for name, valid in (("thresholding_metric", BRIDGE_THRESHOLDING_METRICS), ("ewc_score", BRIDGE_EWC_SCORES)):
            if getattr(self, name) not in valid:
                raise ValueError(f"The primary hypothesis names the {name.replace('_', ' ')} "
                                 f"{getattr(self, name)!r}; the analysis computes {list(valid)}.")

    @classmethod
    def from_record(cls, values: dict, source: str) -> Primary:
        """From the configuration's fields (``Schema.BRIDGE_PRIMARY``'s names)."""
        return cls(values["primary_thresholding_metric"], values["primary_ewc_score"],
                   values["primary_aggregation_level"], source)

    def describe(self) -> str:
        return (f"{self.thresholding_metric} at {self.aggregation_level} level against {self.ewc_score}, each "
                "measure at its λ chosen on the selection split")


def label_tests(correlations: pd.DataFrame, primary: Primary, setting_keys, selected) -> pd.DataFrame:
    """``correlations`` with ``role`` (``primary`` for one row, else ``secondary``) and the Holm-adjusted p of
    each family (``FAMILIES``). When several settings share the primary's level (several aggregation methods or
    scopes), the first in the table's order is the primary; a ValueError when none matches, naming what the study
    has."""
    frame = correlations.copy()
    match = ((frame["thresholding_metric"] == primary.thresholding_metric)
             & (frame["ewc_score"] == primary.ewc_score) & (frame["lambda"] == selected)
             & (frame["aggregation_level"] == primary.aggregation_level))
    if not match.any():
        raise ValueError(f"The primary hypothesis ({primary.describe()}; {primary.source}) names a combination "
                         f"this study does not have: levels {sorted(frame['aggregation_level'].unique())}, "
                         f"thresholding metrics {sorted(frame['thresholding_metric'].unique())}. Give one it has "
                         "(Data Analysis.py --bridge-primary METRIC SCORE LEVEL).")
    if match.sum() > 1:
        first = frame.loc[frame.index[match][0], list(setting_keys)].to_dict()
        warnings.warn(f"{int(match.sum())} settings of this study share the primary hypothesis's level "
                      f"({primary.aggregation_level}); the first, {first}, is the primary test and the others are "
                      "secondary.", stacklevel=3)
    frame["role"] = SECONDARY
    first = frame.index[match][0]
    frame.loc[first, "role"] = PRIMARY
    secondary = frame["role"] == SECONDARY
    for raw, (adjusted, _) in FAMILIES.items():
        frame[adjusted] = holm_correction(frame[raw]) if raw != "per_trial_p_raw" else np.nan
    frame.loc[secondary, "per_trial_p_holm"] = holm_correction(frame.loc[secondary, "per_trial_p_raw"])
    frame.loc[first, "per_trial_p_holm"] = frame.loc[first, "per_trial_p_raw"]
    leading = [*setting_keys, "thresholding_metric", "ewc_score", "lambda", "role"]
    return frame[leading + [c for c in frame.columns if c not in leading]]


def primary_row(correlations: pd.DataFrame) -> pd.Series:
    return correlations[correlations["role"] == PRIMARY].iloc[0]


def mark_lambda_edges(measures: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """``measures`` (one row per setting and measure, its selected ``lambda``) with ``lambda_grid`` (the smallest
    and largest λ > 0 run for that measure in ``reported``, the EWC scores of ``bridge_inputs.ewc_scores``) and
    ``lambda_at_edge``: ``smallest``, ``largest``, ``only value`` or "" (inside the grid, or no λ to choose)."""
    grids = {measure: sorted(v for v in group["lambda"].unique() if v > 0)
             for measure, group in reported.groupby("measure")}
    edges, spans = [], []
    for measure, value in zip(measures["measure"], measures["lambda"]):
        grid = grids.get(measure, [])
        spans.append(f"{grid[0]:g}–{grid[-1]:g}" if len(grid) > 1 else (f"{grid[0]:g}" if grid else ""))
        if not grid or value <= 0:
            edges.append("")
        elif len(grid) == 1:
            edges.append("only value")
        else:
            edges.append("smallest" if np.isclose(value, grid[0]) else "largest" if np.isclose(value, grid[-1])
                         else "")
    return measures.assign(lambda_grid=spans, lambda_at_edge=edges)


def lambda_edge_text(measures: pd.DataFrame) -> str:
    """One line naming every measure whose selected λ is at an edge of its grid ("" when none is)."""
    marked = measures[measures["lambda_at_edge"] != ""].drop_duplicates(["measure", "lambda"])
    if marked.empty:
        return ""
    named = ", ".join(f"{r.measure} (λ = {r['lambda']:g}, the {r.lambda_at_edge} of {r.lambda_grid})"
                      if r.lambda_at_edge != "only value" else f"{r.measure} (λ = {r['lambda']:g}, the only value)"
                      for _, r in marked.iterrows())
    return f"{LAMBDA_EDGE_NOTE}: {named}."


def best_predictors(correlations: pd.DataFrame, setting_keys, selected) -> pd.DataFrame:
    """Per setting and EWC score, at the selected λ: the thresholding metric with the highest Spearman ρ."""
    chosen = correlations[(correlations["lambda"] == selected) & correlations["spearman"].notna()]
    best = chosen.loc[chosen.groupby([*setting_keys, "ewc_score"], sort=True)["spearman"].idxmax()]
    return best.reset_index(drop=True)
