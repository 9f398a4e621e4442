"""Analysis of thresholding and sequential-learning results: reads the results CSVs (and the configuration JSON
beside them) through ``Schema`` only.

Never imports the training code (Tasks, WeightImportance, Aggregation, Experiment, SequentialLearning, Runs,
TensorFlow, Keras).

Typical use::

    import Analysis
    results = Analysis.load_results(["results/a.csv", "results/b.csv"], epoch=[5])
    analysis = Analysis.analyze(results, tolerance=0.05, test="t")
    print(Analysis.format_summary(analysis.summary))
    Analysis.save_analysis(analysis, "figures", formats=("png", "pdf"), dpi=300)
    Analysis.write_report(results, "report", analysis=analysis)
    figure = Analysis.plot_curves(results, epoch="last")       # a matplotlib Figure; or draw into ax=...

Modules: ``columns`` (the keys that group rows; the columns themselves come from ``Schema``), ``loading`` (both
kinds of results CSV, read through ``Schema.reading``, whole rows only as the runners read them; one policy for
keying trials across files), ``chance`` (trained models at chance), ``curves``, ``metrics`` (per-trial AUC,
normalized AUC, max fraction within tolerance), ``summary`` (means, confidence intervals, ranks), ``comparisons``
(paired tests, Holm), ``stability`` (Kendall's W), ``statistics`` (the generic statistics), ``checks`` (warnings
about incomplete curves and NaN values as files are read), ``style`` (colours, labels and the helpers every
figure uses), ``figures`` (curves) and ``statistics_figures`` (significance, stability): figure-returning
functions that also draw into a given ``ax``, ``report``, ``thresholding`` (the pipeline), ``paths`` (every
output name), ``original`` (the original toolkit's per-trial and aggregated results files, read into this schema).
Sequential learning sits beside it with the same parts: ``sequential_metrics`` (accuracy matrices, complete runs,
forgetting, backward transfer, the λ sweep and the summary at the best λ), ``sequential_figures``,
``sequential_report`` and ``sequential`` (the pipeline); the bridge study, whether the thresholding ranking predicts
the EWC ranking of the same importances, in ``bridge_inputs`` (its files, incomplete trials and declared primary
hypothesis), ``bridge_study``, ``bridge_claims`` (the primary test, the Holm families, λ at an edge),
``rank_correlation`` (ρ and τ for batches) and ``bridge_study_report``. ``run`` goes from CSV paths to every output, for
either analysis.
The importance atlas reads the importances a run saved (``save_importances=True``) with NumPy alone:
``atlas_loading`` (the ``.npz`` files), ``atlas_metrics`` (removal sets as the runner draws them, agreement,
overlap, allocation, distributions), ``atlas_maps`` (first-layer maps), ``atlas_figures``, ``atlas_report`` (the
report's section "Inside the measures") and ``atlas`` (the pipeline).
"""

from Analysis.atlas import ImportanceAtlas, agreement_summary, build_atlas, save_atlas
from Analysis.atlas_figures import plot_agreement, plot_allocation, plot_distributions, plot_first_layer, plot_overlap
from Analysis.atlas_loading import find_importance_folders, load_importances_folder, read_importance_file
from Analysis.atlas_report import write_atlas_report
from Analysis.chance import chance_statements, models_at_chance
from Analysis.columns import CURVE_KEYS, GROUP_KEYS, METRICS, RESULT_COLUMNS, lower_is_better
from Analysis.comparisons import compare_measures, significance_matrix, significance_statements, small_sample_note
from Analysis.curves import compute_curves
from Analysis.figures import plot_curves
from Analysis.loading import is_sequential_csv, load_config, load_results, load_sequential, select_results
from Analysis.metrics import (
    DEFAULT_TOLERANCE,
    curve_auc,
    max_fraction_within_tolerance,
    normalized_auc,
    trial_metrics,
)
from Analysis.report import markdown_table, write_report
from Analysis.run import run_analysis, run_sequential_analysis
from Analysis.sequential import SequentialAnalysis, analyze_sequential, save_sequential_analysis
from Analysis.sequential_metrics import (
    EWC_METRICS,
    best_lambdas,
    format_sequential_summary,
    matrix_metrics,
    run_metrics,
    sequential_summary,
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
from Analysis.statistics_figures import plot_significance, plot_stability
from Analysis.style import measure_colour, measure_label, measure_style, save_figure
from Analysis.summary import format_summary, rank_measures, summarize_metrics, summary_table
from Analysis.thresholding import ThresholdingAnalysis, analyze, make_figures, save_analysis, save_tables
from Schema import BASELINE_MEASURE, SEQUENTIAL_COLUMNS

__all__ = [
    "BASELINE_MEASURE", "CURVE_KEYS", "DEFAULT_TOLERANCE", "GROUP_KEYS", "METRICS", "RESULT_COLUMNS",
    "PairedTestResult", "ThresholdingAnalysis", "analyze", "chance_statements", "compare_measures", "compute_curves",
    "confidence_interval", "curve_auc", "format_summary", "holm_correction", "kendalls_w", "load_config",
    "load_results", "lower_is_better", "make_figures", "markdown_table", "max_fraction_within_tolerance",
    "mean_spearman", "measure_colour", "models_at_chance", "measure_label", "measure_style", "normalized_auc", "paired_test",
    "plot_curves", "plot_significance", "plot_stability", "rank_measures", "ranking_stability", "run_analysis",
    "save_analysis", "save_figure", "save_tables", "select_results", "significance_matrix",
    "significance_statements", "standard_error", "summarize_metrics", "summary_table", "trial_metrics",
    "write_report",
    # sequential learning
    "EWC_METRICS", "SEQUENTIAL_COLUMNS", "SequentialAnalysis", "analyze_sequential", "best_lambdas",
    "format_sequential_summary", "is_sequential_csv", "load_sequential", "matrix_metrics", "run_metrics",
    "run_sequential_analysis", "save_sequential_analysis", "sequential_summary",
    # the importance atlas (saved importances)
    "ImportanceAtlas", "agreement_summary", "build_atlas", "find_importance_folders", "load_importances_folder",
    "plot_agreement", "plot_allocation", "plot_distributions", "plot_first_layer", "plot_overlap",
    "read_importance_file", "save_atlas", "write_atlas_report",
]
