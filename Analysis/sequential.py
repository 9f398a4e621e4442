"""The sequential-learning analysis end to end: results -> per-run metrics, λ sweep, summary at the best λ and mean
accuracy matrices.

``analyze_sequential`` computes everything from the rows of ``loading.load_sequential``;
``save_sequential_analysis`` writes its tables, figures and report. The metrics are defined in
``sequential_metrics``. Whether the thresholding ranking predicts EWC's is the bridge study's question
(``bridge_study``, on the paired folders of ``python -m Bridge``), not this analysis's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from Analysis import paths
from Analysis.sequential_figures import plot_accuracy_matrices, plot_forgetting, plot_lambda_sweep
from Analysis.sequential_metrics import (describe_incomplete_runs, lambda_sweep, mean_accuracy_matrices, run_metrics,
                                         sequential_summary)
from Analysis.sequential_report import write_sequential_report
from Analysis.style import DPI, check_formats


@dataclass
class SequentialAnalysis:
    """Every table of one sequential analysis."""

    metrics: pd.DataFrame
    sweep: pd.DataFrame
    summary: pd.DataFrame
    matrices: dict
    options: dict = field(default_factory=dict)


def analyze_sequential(results: pd.DataFrame, confidence: float = 0.95, ci_method: str = "t") -> SequentialAnalysis:
    """Per-run metrics, the λ sweep, the summary at the best λ and the mean accuracy matrices."""
    metrics = run_metrics(results)
    incomplete = describe_incomplete_runs(metrics)
    if incomplete:
        warnings.warn(incomplete, stacklevel=2)
    metrics = metrics[metrics["complete"]].reset_index(drop=True)
    if metrics.empty:
        raise ValueError(f"No complete run in the sequential results: {incomplete}")
    return SequentialAnalysis(
        metrics=metrics,
        sweep=lambda_sweep(metrics, confidence, ci_method),
        summary=sequential_summary(metrics, confidence, ci_method),
        matrices=mean_accuracy_matrices(results, metrics),
        options={"confidence": confidence, "ci_method": ci_method},
    )


def save_sequential_analysis(analysis: SequentialAnalysis, out_dir, formats=("png",),
                             dpi: float = DPI) -> dict[str, list[Path]]:
    """Tables (CSV), figures and ``sequential_report.md`` in ``out_dir``; the figures in each of ``formats`` and
    always as PNG, which the report shows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {paths.SEQUENTIAL_SUMMARY_CSV: analysis.summary, paths.SEQUENTIAL_RUN_METRICS_CSV: analysis.metrics,
              paths.SEQUENTIAL_LAMBDA_SWEEP_CSV: analysis.sweep}
    written = {"tables": []}
    for name, table in tables.items():
        table.to_csv(out_dir / name, index=False)
        written["tables"].append(out_dir / name)
    confidence = analysis.options.get("confidence", 0.95)
    formats = ("png", *check_formats(formats))
    written["accuracy_matrices"] = plot_accuracy_matrices(analysis.matrices, out_dir, formats, dpi)
    written["forgetting"] = plot_forgetting(analysis.summary, out_dir, confidence, formats, dpi)
    written["lambda_sweep"] = plot_lambda_sweep(analysis.sweep, out_dir, formats, dpi)
    written["report"] = [write_sequential_report(out_dir, analysis.summary, analysis.sweep, written, confidence)]
    return written
