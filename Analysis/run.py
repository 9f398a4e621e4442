"""From results CSVs to tables, figures and report in one call (what ``Data Analysis.py`` runs)."""

from __future__ import annotations

from Analysis.comparisons import DEFAULT_ALPHA
from Analysis.loading import load_results
from Analysis.metrics import DEFAULT_TOLERANCE
from Analysis.report import write_report
from Analysis.summary import DEFAULT_METRIC
from Analysis.thresholding import ThresholdingAnalysis, analyze, save_analysis


def run_analysis(csv_paths, out_dir, report_dir=None, band: str = "se", tolerance: float = DEFAULT_TOLERANCE,
                 tolerance_reference: str = "loss", metric: str = DEFAULT_METRIC, test: str = "t",
                 alpha: float = DEFAULT_ALPHA, confidence: float = 0.95, ci_method: str = "t",
                 **criteria) -> ThresholdingAnalysis:
    """Load ``csv_paths`` (filtered by ``criteria``, e.g. ``epoch=[5]``; see ``select_results``), analyse, save
    the tables and figures in ``out_dir`` and, if ``report_dir`` is given, write the Markdown report there."""
    results = load_results(csv_paths, **criteria)
    analysis = analyze(results, tolerance=tolerance, tolerance_reference=tolerance_reference, metric=metric,
                       test=test, alpha=alpha, confidence=confidence, ci_method=ci_method)
    written = save_analysis(analysis, out_dir, band=band)
    if report_dir is not None:
        write_report(results, report_dir, analysis=analysis, figures=written, band=band)
    return analysis
