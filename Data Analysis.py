"""Summarise, plot and report thresholding results.

    python "Data Analysis.py" results/foo.csv [more.csv ...] --out figures [--report report] [--tolerance 0.05]
                              [--epoch 5 10] [--measure fisher magnitude] [--test t|wilcoxon|permutation] ...

Prints the summary table (per measure, aggregation, scope, order, epoch and task: mean AUC, normalized AUC with
its confidence interval, max fraction within tolerance, rank), saves the figures and tables (summary.csv, ...) in
--out, and with --report writes report.md there. All the work is done by the Analysis package.
"""

from __future__ import annotations

import argparse
import sys
import warnings

import Analysis
from Analysis.comparisons import DEFAULT_ALPHA, small_sample_note
from Analysis.figures import BANDS
from Analysis.metrics import DEFAULT_TOLERANCE, TOLERANCE_REFERENCES
from Analysis.statistics import CI_METHODS, PAIRED_TESTS

FILTERS = ("task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "replacement")


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="Data Analysis.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="results CSV files (all trials of one experiment each)")
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
    for column in FILTERS:
        kind = int if column == "epoch" else str
        parser.add_argument(f"--{column.replace('_', '-')}", dest=column, nargs="+", type=kind, default=None,
                            help=f"keep only these values of {column}" + (" (random is always kept)"
                                                                          if column == "measure" else ""))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    criteria = {column: getattr(arguments, column) for column in FILTERS}
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"warning: {message}\n"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            analysis = Analysis.run_analysis(
                arguments.results, arguments.out, report_dir=arguments.report, band=arguments.band,
                tolerance=arguments.tolerance, tolerance_reference=arguments.tolerance_reference,
                metric=arguments.metric, test=arguments.test, alpha=arguments.alpha,
                confidence=arguments.confidence, ci_method=arguments.ci, **criteria,
            )
    except (FileNotFoundError, ValueError) as error:
        print(f"Data Analysis.py: error: {error}", file=sys.stderr)
        return 2
    print(Analysis.format_summary(analysis.summary, confidence=arguments.confidence))
    print()
    significant = Analysis.significance_statements(analysis.comparisons, only_significant=True, with_group=True)
    print("Significant differences:" if significant else "No significant differences.")
    for statement in significant:
        print(f"  {statement}")
    note = small_sample_note(analysis.comparisons, arguments.alpha)
    if note:
        print(f"Note: {note}")
    print(f"\nFigures and tables written to {arguments.out}")
    if arguments.report is not None:
        print(f"Report written to {arguments.report}/report.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
