"""Summarise, plot and report thresholding results, and sequential-learning (EWC) results.

    python "Data Analysis.py" results/foo.csv [more.csv ...] --out figures [--report report] [--tolerance 0.05]
                              [--epoch 5 10] [--measure fisher magnitude] [--test t|wilcoxon|permutation]
                              [--format png,pdf,svg] [--dpi 300] [--titles] ...
    python "Data Analysis.py" --sequential results/sequential_digits.csv --out figures
    python "Data Analysis.py" --bridge results/bridge_permuted_digits --out figures
                              [--bridge-primary auc_least forgetting_a weight]
    python "Data Analysis.py" --importances results/foo_importances --out figures [--report report]

Prints the summary table (per measure, aggregation, scope, order, parameters, epoch and task: mean AUC, normalized
AUC with its confidence interval, max fraction within tolerance for order least, rank), saves the figures (each in
every --format) and tables (summary.csv, ...) in --out, and with --report writes report.md there with PNG figures.
Warns when a curve lacks thresholds that the other curves of its file have (linear and geometric grids), names any
column that holds NaN, leaves out a partial last line (a row still being written) with a warning, and says which
trained models are at chance (their curves measure noise).

Saved importances (a run with save_importances=True keeps results/foo_importances beside results/foo.csv, and
that folder is read whenever results/foo.csv is given; --importances DIR names folders, --no-importances skips
them) get the importance atlas: agreement between measures, overlap of the weights they remove, layer allocation,
distributions per tensor and first-layer maps (atlas_*.csv and inside_*.png in --out), and the report's section
"Inside the measures" (or inside_the_measures.md in --report when no results CSV is given).

Results in the original toolkit's layouts (its validation_loss_over_threshold_TRIAL_<k>.csv files, or its
AggregatedData.csv of means over trials, which allows no per-trial statistics) are recognised by their columns
and read into this toolkit's names; --chance-loss sets their chance level (they record none; default ln 10).

Sequential-learning CSVs (given with --sequential, or recognised among the results by their columns) get the
accuracy-matrix heat maps, forgetting per measure at its best lambda with confidence intervals, the lambda sweep
and sequential_report.md in --out. The best lambda is chosen on the evaluations it is reported on, so no measure is
tested against none (Analysis.sequential_metrics.LAMBDA_CHOICE_NOTE). Thresholding and sequential results given
together are analysed each on its own: whether the thresholding ranking predicts the EWC ranking is the bridge
study's question (python -m Bridge, then --bridge DIR: lambda chosen on held-out examples, trials paired). Its
report leads with the primary test that the study's configuration JSON declares (a study recorded before the
declaration: the default); --bridge-primary analyses it with another, and the report says it is not the declared one.

All the work is done by the Analysis package's entry points, Analysis.run_analysis and
Analysis.run_sequential_analysis; this script parses the options and prints what they return.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import Analysis
from Analysis.bridge_study_report import format_bridge_study, run_bridge_study
from Analysis.chance import chance_statements
from Analysis.comparisons import DEFAULT_ALPHA, small_sample_note
from Analysis.figures import BANDS
from Analysis.metrics import DEFAULT_TOLERANCE, TOLERANCE_REFERENCES
from Analysis.original import aggregated_note
from Analysis.report import MIN_TRIALS, trials_note
from Analysis.sequential_metrics import LAMBDA_CHOICE_NOTE
from Analysis.statistics import CI_METHODS, PAIRED_TESTS
from Analysis.style import DPI, FORMATS, check_formats
from Schema import BRIDGE_PRIMARY

FILTERS = ("task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "parameters",
           "replacement")


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="Data Analysis.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="*", help="results CSV files (all trials of one experiment each)")
    parser.add_argument("--sequential", nargs="+", default=None,
                        help="sequential-learning results CSVs (SequentialLearning); also recognised among results")
    parser.add_argument("--bridge", nargs="+", default=None, metavar="DIR",
                        help="bridge study folders (python -m Bridge): the thresholding and EWC rankings of the same "
                             "importances, correlated across measures")
    parser.add_argument("--bridge-resamples", type=int, default=2000,
                        help="bootstrap resamples over trials for --bridge (default %(default)s)")
    parser.add_argument("--bridge-primary", nargs=3, default=None, metavar=("METRIC", "SCORE", "LEVEL"),
                        help="the primary hypothesis for --bridge: thresholding metric, EWC score, aggregation level "
                             "(default: the one the study's configuration declares)")
    parser.add_argument("--importances", nargs="+", default=None, metavar="DIR",
                        help="folders of saved importances (results/foo_importances) for the importance atlas; by "
                             "default those beside the results CSVs given")
    parser.add_argument("--no-importances", action="store_true",
                        help="skip the importance atlas even where the results have an _importances folder")
    parser.add_argument("--out", required=True, help="folder for the figures (PNG) and tables (CSV)")
    parser.add_argument("--report", default=None, help="folder for report.md and its figures")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE,
                        help="allowed loss increase for the max fraction within tolerance (default %(default)s)")
    parser.add_argument("--tolerance-reference", choices=TOLERANCE_REFERENCES, default="loss",
                        help="'loss': L <= L0 (1 + tolerance); 'chance': L <= L0 + tolerance (Lc - L0)")
    parser.add_argument("--metric", choices=Analysis.METRICS, default="normalized_auc",
                        help="per-trial metric used to rank and compare measures (default %(default)s)")
    parser.add_argument("--test", choices=PAIRED_TESTS, default="t", help="paired test (default %(default)s)")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="significance level after Holm")
    parser.add_argument("--confidence", type=float, default=0.95, help="confidence level of the intervals")
    parser.add_argument("--ci", choices=CI_METHODS, default="t", help="confidence interval method")
    parser.add_argument("--band", choices=BANDS, default="se",
                        help="band around curves: standard error or confidence interval")
    parser.add_argument("--format", dest="formats", type=_formats, default=("png",),
                        help=f"figure formats, comma-separated, from {','.join(FORMATS)} (default png)")
    parser.add_argument("--dpi", type=float, default=DPI, help="resolution of PNG figures (default %(default)g)")
    parser.add_argument("--titles", action="store_true", help="give each figure a title naming what it shows")
    parser.add_argument("--chance-loss", type=float, default=None,
                        help="chance-level validation loss of results in the original toolkit's layout, which "
                             "record none (default ln 10 = 2.3026, ten classes)")
    for column in FILTERS:
        kind = int if column == "epoch" else str
        parser.add_argument(f"--{column.replace('_', '-')}", dest=column, nargs="+", type=kind, default=None,
                            help=f"keep only these values of {column}" + (" (random is always kept)"
                                                                          if column == "measure" else ""))
    return parser.parse_args(argv)


def _formats(text: str) -> tuple[str, ...]:
    try:
        return check_formats(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    sequential = list(arguments.sequential or []) + [p for p in arguments.results if Analysis.is_sequential_csv(p)]
    arguments.results = [p for p in arguments.results if p not in sequential]
    if not arguments.results and not sequential and not arguments.bridge and not arguments.importances:
        print("Data Analysis.py: error: give thresholding results CSVs, --sequential CSVs, --bridge folders, "
              "--importances folders, or several.", file=sys.stderr)
        return 2
    atlas = None
    folders = [] if arguments.no_importances else (arguments.importances
                                                   or Analysis.find_importance_folders(arguments.results))
    if folders:
        atlas = _run(Analysis.build_atlas, folders, measures=arguments.measure, epochs=arguments.epoch)
        if atlas is None:
            return 2
    for folder in arguments.bridge or []:
        out = Path(arguments.out) / Path(folder).name if len(arguments.bridge) > 1 else Path(arguments.out)
        primary = (dict(zip(BRIDGE_PRIMARY, arguments.bridge_primary)) if arguments.bridge_primary else None)
        study = _run(run_bridge_study, folder, out, tolerance=arguments.tolerance, confidence=arguments.confidence,
                     num_resamples=arguments.bridge_resamples, formats=arguments.formats, dpi=arguments.dpi,
                     primary=primary)
        if study is None:
            return 2
        print(format_bridge_study(study))
        print(f"\nBridge figures, tables and bridge_study.md written to {out}\n")
    if arguments.results:
        criteria = {column: getattr(arguments, column) for column in FILTERS}
        thresholding = _run(Analysis.run_analysis, arguments.results, arguments.out, report_dir=arguments.report,
                            band=arguments.band, tolerance=arguments.tolerance,
                            tolerance_reference=arguments.tolerance_reference, metric=arguments.metric,
                            test=arguments.test, alpha=arguments.alpha, confidence=arguments.confidence,
                            ci_method=arguments.ci, formats=arguments.formats, dpi=arguments.dpi,
                            titles=arguments.titles, chance_loss=arguments.chance_loss, atlas=atlas,
                            **criteria)
        if thresholding is None:
            return 2
        _print_thresholding(thresholding, arguments)
    elif atlas is not None:
        Analysis.save_atlas(atlas, arguments.out, formats=arguments.formats, dpi=arguments.dpi)
        if arguments.report is not None:
            Analysis.write_atlas_report(atlas, arguments.report)
    if atlas is not None:
        _print_atlas(atlas, arguments)
    if sequential:
        analysis = _run(Analysis.run_sequential_analysis, sequential, arguments.out, confidence=arguments.confidence,
                        ci_method=arguments.ci, formats=arguments.formats, dpi=arguments.dpi)
        if analysis is None:
            return 2
        _print_sequential(analysis, arguments)
    return 0


def _run(entry_point, *args, **kwargs):
    """``entry_point(*args, **kwargs)`` with its warnings printed as ``warning: ...``; None (after printing the
    error) when the input is missing or invalid."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            return entry_point(*args, **kwargs)
    except (FileNotFoundError, ValueError) as error:
        print(f"Data Analysis.py: error: {error}", file=sys.stderr)
        return None


def _print_thresholding(analysis, arguments) -> None:
    for statement in chance_statements(analysis.at_chance):
        print(f"At chance: {statement}")
    if not analysis.at_chance.empty:
        print()
    print(Analysis.format_summary(analysis.summary, confidence=arguments.confidence))
    print()
    num_trials = int(analysis.summary["num_trials"].max())
    aggregated = aggregated_note(arguments.results)
    if num_trials > 1:
        significant = Analysis.significance_statements(analysis.comparisons, only_significant=True,
                                                       with_group=True)
        print("Significant differences:" if significant else "No significant differences.")
        for statement in significant:
            print(f"  {statement}")
    note = (aggregated or trials_note(num_trials) if num_trials < MIN_TRIALS
            else small_sample_note(analysis.comparisons, arguments.alpha))
    if note:
        print(f"Note: {note}")
    print(f"\nFigures and tables written to {arguments.out}")
    if arguments.report is not None:
        print(f"Report written to {arguments.report}/report.md")


def _print_atlas(atlas, arguments) -> None:
    print()
    print("Inside the measures (saved importances): " + "; ".join(
        f"{run.name}: {len(run.measures())} measures, {len(run.trials())} trials, epochs "
        f"{', '.join(map(str, run.epochs()))}" for run in atlas.runs) + ".")
    mean = Analysis.agreement_summary(atlas)
    if not mean.empty:
        print("Spearman rank correlation over all weights (last epoch, mean over trials):")
        print(mean.to_string())
    for run in atlas.runs:
        for epoch in atlas.figure_epochs.get(run.name, []):
            for reason in atlas.notes.get((run.name, epoch), {}).values():
                print(f"  {run.name}, epoch {epoch}: not drawn, {reason}.")
    where = f"{arguments.report}/" + ("report.md" if arguments.results else "inside_the_measures.md")
    print(f"Atlas tables and figures written to {arguments.out}"
          + (f"; its section in {where}" if arguments.report is not None else ""))


def _print_sequential(analysis, arguments) -> None:
    print()
    print("Sequential learning, each measure at its best lambda (highest mean average accuracy):")
    print(Analysis.format_sequential_summary(analysis.summary, confidence=arguments.confidence))
    print(f"Note: {LAMBDA_CHOICE_NOTE.replace('`', '')}")
    print(f"\nSequential figures, tables and sequential_report.md written to {arguments.out}")


if __name__ == "__main__":
    sys.exit(main())
