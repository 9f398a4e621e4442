"""The thresholding analysis end to end: results -> curves, per-trial metrics, summary, comparisons, stability.

``analyze`` computes everything from a results DataFrame, and names the trained models at chance (``chance``);
``save_analysis`` writes its tables and figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from Analysis import paths
from Analysis.chance import COLUMNS as CHANCE_COLUMNS
from Analysis.chance import models_at_chance
from Analysis.comparisons import DEFAULT_ALPHA, compare_measures
from Analysis.curves import compute_curves
from Analysis.figures import BANDS, plot_curves
from Analysis.metrics import DEFAULT_TOLERANCE, trial_metrics
from Analysis.stability import ranking_stability
from Analysis.statistics_figures import plot_significance, plot_stability, stability_panels
from Analysis.style import DPI, check_formats, save_figure
from Analysis.summary import DEFAULT_METRIC, summarize_metrics, summary_table

MAX_OVERVIEW_EPOCHS = 8


@dataclass
class ThresholdingAnalysis:
    """Every table of one analysis, and the options that produced them; ``at_chance``: the trained models at chance
    (``chance.models_at_chance``), whose curves measure noise."""

    curves: pd.DataFrame
    metrics: pd.DataFrame
    summary: pd.DataFrame
    comparisons: pd.DataFrame
    trial_stability: pd.DataFrame
    epoch_stability: pd.DataFrame
    options: dict = field(default_factory=dict)
    at_chance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CHANCE_COLUMNS)))


def analyze(results: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE, tolerance_reference: str = "loss",
            metric: str = DEFAULT_METRIC, test: str = "t", alpha: float = DEFAULT_ALPHA, confidence: float = 0.95,
            ci_method: str = "t") -> ThresholdingAnalysis:
    """Curves, per-trial metrics, their summary with ranks, pairwise comparisons, ranking stability, and the
    trained models at chance."""
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
        at_chance=models_at_chance(results),
    )


def make_figures(analysis: ThresholdingAnalysis, out_dir, band: str = "se", formats=("png",), dpi: float = DPI,
                 titles: bool = False) -> dict[str, list[Path]]:
    """Every figure of ``analysis`` in ``out_dir``, each in every one of ``formats`` (``png``, ``pdf``, ``svg``)
    at ``dpi``; by kind: ``curves`` (per task, epoch and aggregation), ``aggregations`` (per task, epoch and
    measure, where there are several aggregations), ``overview`` (per task, scope, order, parameters and
    replacement, where there are several epochs: epochs down, aggregations across), ``significance`` (per task,
    epoch and aggregation, where some pair has two trials) and ``stability`` (per task). ``titles``: a title
    naming what each figure shows on each (none by default)."""
    if band not in BANDS:
        raise ValueError(f"Unknown band {band!r}; valid bands are {list(BANDS)}.")
    formats = check_formats(formats)
    curves, comparisons = analysis.curves, analysis.comparisons
    alpha = analysis.options.get("alpha", DEFAULT_ALPHA)
    confidence = analysis.options.get("confidence", 0.95)
    written = {kind: [] for kind in ("curves", "aggregations", "overview", "significance", "stability")}

    def save(kind, figure, path):
        written[kind] += save_figure(figure, path, formats, dpi)

    options = {"band": band, "confidence": confidence, "title": True if titles else None}
    aggregation = ["task", "epoch", "aggregation_level", "aggregation_method"]
    for keys, data in curves.groupby(aggregation, sort=True):
        save("curves", plot_curves(data, **options), paths.curves_figure(out_dir, *keys))
    for (task, epoch, measure), data in curves.groupby(["task", "epoch", "measure"], sort=True):
        if data[["aggregation_level", "aggregation_method"]].drop_duplicates().shape[0] < 2:
            continue  # one aggregation: its line is in the curves figure already
        save("aggregations", plot_curves(data, lines="aggregation", **options),
             paths.aggregation_figure(out_dir, task, epoch, measure))
    for (task, scope, order, parameters, replacement), data in curves.groupby(
            ["task", "scope", "order", "parameters", "replacement"], sort=True):
        epochs = spread(sorted(data["epoch"].unique()), MAX_OVERVIEW_EPOCHS)
        if len(epochs) < 2:
            continue  # one epoch: the curves figures show it
        figure = plot_curves(data[data["epoch"].isin(epochs)], columns=("aggregation_level", "aggregation_method"),
                             **options)
        save("overview", figure, paths.overview_figure(out_dir, task, scope, order, replacement, parameters))
    for keys, data in comparisons.groupby(aggregation, sort=True):
        if data["p_holm"].notna().any():
            save("significance", plot_significance(data, alpha=alpha, title=options["title"]),
                 paths.significance_figure(out_dir, *keys))
    for task in sorted(analysis.trial_stability["task"].unique()):
        if any(stability_panels(analysis.trial_stability, analysis.epoch_stability, task)):
            save("stability", plot_stability(analysis.trial_stability, analysis.epoch_stability, task=task,
                                             title=options["title"]), paths.stability_figure(out_dir, task))
    return written


def spread(values: list, limit: int) -> list:
    """At most ``limit`` of ``values``, evenly spread, the first and the last included."""
    if len(values) <= limit:
        return list(values)
    indices = np.unique(np.round(np.linspace(0, len(values) - 1, limit)).astype(int))
    return [values[i] for i in indices]


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


def save_analysis(analysis: ThresholdingAnalysis, out_dir, band: str = "se", formats=("png",), dpi: float = DPI,
                  titles: bool = False) -> dict[str, list[Path]]:
    """``save_tables`` and ``make_figures`` into ``out_dir``; the figures by kind plus ``"tables"``."""
    tables = save_tables(analysis, out_dir)
    written = make_figures(analysis, out_dir, band=band, formats=formats, dpi=dpi, titles=titles)
    written["tables"] = list(tables.values())
    return written
