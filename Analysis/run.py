"""From results CSVs to tables, figures and report in one call each (what ``Data Analysis.py`` runs)."""

from __future__ import annotations

from Analysis.atlas import save_atlas
from Analysis.comparisons import DEFAULT_ALPHA
from Analysis.loading import load_results, load_sequential
from Analysis.metrics import DEFAULT_TOLERANCE
from Analysis.report import write_report
from Analysis.sequential import SequentialAnalysis, analyze_sequential, save_sequential_analysis
from Analysis.style import DPI
from Analysis.summary import DEFAULT_METRIC
from Analysis.thresholding import ThresholdingAnalysis, analyze, save_analysis


def run_analysis(csv_paths, out_dir, report_dir=None, band: str = "se", tolerance: float = DEFAULT_TOLERANCE,
                 tolerance_reference: str = "loss", metric: str = DEFAULT_METRIC, test: str = "t",
                 alpha: float = DEFAULT_ALPHA, confidence: float = 0.95, ci_method: str = "t", formats=("png",),
                 dpi: float = DPI, titles: bool = False, chance_loss: float | None = None, atlas=None,
                 **criteria) -> ThresholdingAnalysis:
    """Load ``csv_paths`` (filtered by ``criteria``, e.g. ``epoch=[5]``; see ``select_results``; ``chance_loss``:
    the chance level of files in the original toolkit's layout, None for ln 10), analyse, save
    the tables and figures (each in every one of ``formats`` at ``dpi``; ``titles`` on them if asked) in
    ``out_dir`` and, if ``report_dir`` is given, write the Markdown report there (its figures as PNG). ``atlas``:
    an importance atlas (``Analysis.build_atlas``), whose tables and figures go to ``out_dir`` too and whose
    section "Inside the measures" goes into the report."""
    results = load_results(csv_paths, chance_loss=chance_loss, **criteria)
    analysis = analyze(results, tolerance=tolerance, tolerance_reference=tolerance_reference, metric=metric,
                       test=test, alpha=alpha, confidence=confidence, ci_method=ci_method)
    written = save_analysis(analysis, out_dir, band=band, formats=formats, dpi=dpi, titles=titles)
    if atlas is not None:
        written.update(save_atlas(atlas, out_dir, formats=formats, dpi=dpi))
    if report_dir is not None:
        write_report(results, report_dir, analysis=analysis, figures=written, band=band, atlas=atlas)
    return analysis


def run_sequential_analysis(csv_paths, out_dir, confidence: float = 0.95, ci_method: str = "t", formats=("png",),
                            dpi: float = DPI) -> SequentialAnalysis:
    """Load the sequential results ``csv_paths``, analyse them and save tables, figures and
    ``sequential_report.md`` in ``out_dir`` (figures in each of ``formats`` and as PNG, at ``dpi``)."""
    analysis = analyze_sequential(load_sequential(csv_paths), confidence=confidence, ci_method=ci_method)
    save_sequential_analysis(analysis, out_dir, formats=formats, dpi=dpi)
    return analysis
