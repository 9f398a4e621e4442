"""The sequential-learning analysis end to end: results -> per-run metrics, λ sweep, summary at the best λ, mean
accuracy matrices and, given thresholding results of the same task, thresholding vs EWC.

``analyze_sequential`` computes everything from the rows of ``loading.load_sequential``;
``save_sequential_analysis`` writes its tables, figures and report. The metrics are defined in
``sequential_metrics``, the rank correlation with a thresholding analysis in ``bridge``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from Analysis import paths
from Analysis.bridge import ThresholdingVsEWC, thresholding_vs_ewc
from Analysis.sequential_figures import plot_accuracy_matrices, plot_forgetting, plot_lambda_sweep
from Analysis.sequential_metrics import (describe_incomplete_runs, lambda_sweep, mean_accuracy_matrices, run_metrics,
                                         sequential_summary)
from Analysis.sequential_report import write_sequential_report
from Analysis.style import DPI, check_formats


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
                       ci_method: str = "t", bridge_ci_method: str = "bootstrap",
                       **bridge_options) -> SequentialAnalysis:
    """Per-run metrics, the λ sweep, the summary at the best λ, mean accuracy matrices and, with thresholding
    results (or their per-trial metrics) of the same task, ``thresholding_vs_ewc`` with the interval
    ``bridge_ci_method`` and the other options ``bridge_options``."""
    metrics = run_metrics(results)
    incomplete = describe_incomplete_runs(metrics)
    if incomplete:
        warnings.warn(incomplete, stacklevel=2)
    metrics = metrics[metrics["complete"]].reset_index(drop=True)
    if metrics.empty:
        raise ValueError(f"No complete run in the sequential results: {incomplete}")
    bridge = None
    if thresholding is not None:
        bridge = thresholding_vs_ewc(thresholding, metrics, confidence=confidence, ci_method=bridge_ci_method,
                                     **bridge_options)
    return SequentialAnalysis(
        metrics=metrics,
        sweep=lambda_sweep(metrics, confidence, ci_method),
        summary=sequential_summary(metrics, confidence, ci_method),
        matrices=mean_accuracy_matrices(results, metrics),
        bridge=bridge,
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
    if analysis.bridge is not None:
        tables[paths.THRESHOLDING_VS_EWC_CSV] = analysis.bridge.table.assign(
            rho=analysis.bridge.rho, rho_ci_low=analysis.bridge.ci_low, rho_ci_high=analysis.bridge.ci_high,
            p_value=analysis.bridge.p_value)
    written = {"tables": []}
    for name, table in tables.items():
        table.to_csv(out_dir / name, index=False)
        written["tables"].append(out_dir / name)
    confidence = analysis.options.get("confidence", 0.95)
    formats = ("png", *check_formats(formats))
    written["accuracy_matrices"] = plot_accuracy_matrices(analysis.matrices, out_dir, formats, dpi)
    written["forgetting"] = plot_forgetting(analysis.summary, out_dir, confidence, formats, dpi)
    written["lambda_sweep"] = plot_lambda_sweep(analysis.sweep, out_dir, formats, dpi)
    written["report"] = [write_sequential_report(out_dir, analysis.summary, analysis.sweep, analysis.bridge,
                                                 written, confidence)]
    return written
