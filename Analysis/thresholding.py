"""The thresholding analysis end to end: results -> curves, per-trial metrics, summary, comparisons, stability.

``analyze`` computes everything from a results DataFrame; ``save_analysis`` writes its tables and figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from Analysis import figures as figure_module
from Analysis import paths
from Analysis.comparisons import DEFAULT_ALPHA, compare_measures
from Analysis.curves import compute_curves
from Analysis.metrics import DEFAULT_TOLERANCE, trial_metrics
from Analysis.stability import ranking_stability
from Analysis.summary import DEFAULT_METRIC, summarize_metrics, summary_table


@dataclass
class ThresholdingAnalysis:
    """Every table of one analysis, and the options that produced them."""

    curves: pd.DataFrame
    metrics: pd.DataFrame
    summary: pd.DataFrame
    comparisons: pd.DataFrame
    trial_stability: pd.DataFrame
    epoch_stability: pd.DataFrame
    options: dict = field(default_factory=dict)


def analyze(results: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE, tolerance_reference: str = "loss",
            metric: str = DEFAULT_METRIC, test: str = "t", alpha: float = DEFAULT_ALPHA, confidence: float = 0.95,
            ci_method: str = "t") -> ThresholdingAnalysis:
    """Curves, per-trial metrics, their summary with ranks, pairwise comparisons and ranking stability."""
    metrics = trial_metrics(results, tolerance=tolerance, tolerance_reference=tolerance_reference)
    return ThresholdingAnalysis(
        curves=compute_curves(results, confidence=confidence),
        metrics=metrics,
        summary=summarize_metrics(metrics, confidence=confidence, ci_method=ci_method, metric=metric),
        comparisons=compare_measures(metrics, metric=metric, test=test, alpha=alpha),
        trial_stability=ranking_stability(metrics, metric=metric, across="trial"),
        epoch_stability=ranking_stability(metrics, metric=metric, across="epoch"),
        options={"tolerance": tolerance, "tolerance_reference": tolerance_reference, "metric": metric,
                 "test": test, "alpha": alpha, "confidence": confidence, "ci_method": ci_method},
    )


def make_figures(analysis: ThresholdingAnalysis, out_dir, band: str = "se") -> dict[str, list[Path]]:
    """Every figure of ``analysis`` as PNG files in ``out_dir``, by kind."""
    if band not in figure_module.BANDS:
        raise ValueError(f"Unknown band {band!r}; valid bands are {list(figure_module.BANDS)}.")
    styles = figure_module.measure_styles(analysis.curves["measure"].unique())
    alpha = analysis.options.get("alpha", DEFAULT_ALPHA)
    return {
        "curves": figure_module.plot_measure_curves(analysis.curves, out_dir, band=band, styles=styles),
        "aggregations": figure_module.plot_aggregation_curves(analysis.curves, out_dir, band=band),
        "overview": figure_module.plot_overview(analysis.curves, out_dir, band=band, styles=styles),
        "significance": figure_module.plot_significance(analysis.comparisons, out_dir, alpha=alpha),
        "stability": figure_module.plot_stability(analysis.trial_stability, analysis.epoch_stability, out_dir),
    }


def save_tables(analysis: ThresholdingAnalysis, out_dir) -> dict[str, Path]:
    """The summary table, per-trial metrics, curves, comparisons and stability as CSV files in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stability = pd.concat([analysis.trial_stability, analysis.epoch_stability], ignore_index=True)
    tables = {
        paths.SUMMARY_CSV: summary_table(analysis.summary),
        paths.TRIAL_METRICS_CSV: analysis.metrics,
        paths.CURVES_CSV: analysis.curves,
        paths.COMPARISONS_CSV: analysis.comparisons,
        paths.STABILITY_CSV: stability,
    }
    written = {}
    for name, table in tables.items():
        table.to_csv(out_dir / name, index=False)
        written[name] = out_dir / name
    return written


def save_analysis(analysis: ThresholdingAnalysis, out_dir, band: str = "se") -> dict[str, list[Path]]:
    """``save_tables`` and ``make_figures`` into ``out_dir``; the figures by kind plus ``"tables"``."""
    tables = save_tables(analysis, out_dir)
    written = make_figures(analysis, out_dir, band=band)
    written["tables"] = list(tables.values())
    return written
