"""Analysis of thresholding results: reads the results CSVs (and the configuration JSON beside them) only.

Never imports the training code (Tasks, WeightImportance, Aggregation, Experiment, TensorFlow, Keras).

Typical use::

    import Analysis
    results = Analysis.load_results(["results/a.csv", "results/b.csv"], epoch=[5])
    analysis = Analysis.analyze(results, tolerance=0.05, test="t")
    print(Analysis.format_summary(analysis.summary))
    Analysis.save_analysis(analysis, "figures")
    Analysis.write_report(results, "report", analysis=analysis)

Modules: ``columns`` (the CSV contract and grouping keys), ``loading``, ``curves``, ``metrics`` (per-trial AUC,
normalized AUC, max fraction within tolerance), ``summary`` (means, confidence intervals, ranks), ``comparisons``
(paired tests, Holm), ``stability`` (Kendall's W), ``statistics`` (the generic statistics), ``figures``,
``report``, ``thresholding`` (the pipeline), ``run`` (CSV paths to outputs), ``paths`` (every output name).
Other analyses (e.g. of sequential learning) sit beside ``thresholding`` as their own module and reuse
``loading`` (with their own ``required_columns``), ``statistics`` and ``report.markdown_table``: ``sequential``
(accuracy matrices, forgetting, backward transfer, the λ sweep, and ``thresholding_vs_ewc``, the rank correlation
between the measures' thresholding and EWC rankings).
"""

from Analysis.columns import (
    BASELINE_MEASURE,
    CURVE_KEYS,
    GROUP_KEYS,
    METRICS,
    RESULT_COLUMNS,
    lower_is_better,
)
from Analysis.comparisons import compare_measures, significance_matrix, significance_statements, small_sample_note
from Analysis.curves import compute_curves
from Analysis.loading import load_config, load_results, select_results
from Analysis.metrics import (
    DEFAULT_TOLERANCE,
    curve_auc,
    max_fraction_within_tolerance,
    normalized_auc,
    trial_metrics,
)
from Analysis.report import markdown_table, write_report
from Analysis.run import run_analysis
from Analysis.sequential import (
    EWC_METRICS,
    SEQUENTIAL_COLUMNS,
    SequentialAnalysis,
    ThresholdingVsEWC,
    analyze_sequential,
    best_lambdas,
    format_sequential_summary,
    is_sequential_csv,
    load_sequential,
    matrix_metrics,
    run_metrics,
    run_sequential_analysis,
    save_sequential_analysis,
    sequential_summary,
    thresholding_vs_ewc,
)
from Analysis.stability import ranking_stability
from Analysis.statistics import (
    PairedTestResult,
    confidence_interval,
    holm_correction,
    kendalls_w,
    mean_spearman,
    paired_test,
    standard_error,
)
from Analysis.summary import format_summary, rank_measures, summarize_metrics, summary_table
from Analysis.thresholding import ThresholdingAnalysis, analyze, make_figures, save_analysis, save_tables

__all__ = [
    "BASELINE_MEASURE", "CURVE_KEYS", "DEFAULT_TOLERANCE", "GROUP_KEYS", "METRICS", "RESULT_COLUMNS",
    "PairedTestResult", "ThresholdingAnalysis", "analyze", "compare_measures", "compute_curves",
    "confidence_interval", "curve_auc", "format_summary", "holm_correction", "kendalls_w", "load_config",
    "load_results", "lower_is_better", "make_figures", "markdown_table", "max_fraction_within_tolerance",
    "mean_spearman", "normalized_auc", "paired_test", "rank_measures", "ranking_stability", "run_analysis",
    "save_analysis", "save_tables", "select_results", "significance_matrix", "significance_statements",
    "standard_error", "summarize_metrics", "summary_table", "trial_metrics", "write_report",
    # sequential learning (Analysis/sequential.py)
    "EWC_METRICS", "SEQUENTIAL_COLUMNS", "SequentialAnalysis", "ThresholdingVsEWC", "analyze_sequential",
    "best_lambdas", "format_sequential_summary", "is_sequential_csv", "load_sequential", "matrix_metrics",
    "run_metrics", "run_sequential_analysis", "save_sequential_analysis", "sequential_summary",
    "thresholding_vs_ewc",
]
