"""The Markdown report of a sequential-learning analysis (``sequential_report.md`` beside its figures)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from Analysis import paths
from Analysis.report import markdown_table
from Analysis.sequential_metrics import LAMBDA_CHOICE_NOTE, format_sequential_summary
from Analysis.summary import interval_column

FIGURE_KINDS = ("accuracy_matrices", "forgetting", "lambda_sweep")


def write_sequential_report(out_dir, summary: pd.DataFrame, sweep: pd.DataFrame, figures: dict | None = None,
                            confidence: float = 0.95) -> Path:
    """Write ``out_dir/sequential_report.md``: the summary at the best λ, what choosing λ on the reported data
    implies, the figures already drawn in ``out_dir`` (``figures``: by kind, as ``save_sequential_analysis`` draws
    them) and the λ sweep. Returns the report's path."""
    lines = ["# Sequential learning analysis", "",
             "Metrics from the accuracy matrix R[i, j] (task j after training task i): average accuracy after the "
             "last task, forgetting (largest earlier accuracy minus the final one, averaged over all but the last "
             "task), backward transfer (Lopez-Paz & Ranzato 2017). Each measure at its best λ (highest mean "
             f"average accuracy); {100 * confidence:g}% t-intervals over trials.", "", LAMBDA_CHOICE_NOTE, "",
             "## Summary at the best λ", "",
             "```",
             format_sequential_summary(summary, confidence=confidence), "```", ""]
    for kind in FIGURE_KINDS:
        for path in (figures or {}).get(kind, []):
            if Path(path).suffix != ".png":
                continue
            lines += [f"![{path.stem}]({path.name})", ""]
    sweep = sweep.copy()
    sweep["forgetting"] = interval_column(sweep, "forgetting")
    sweep["average accuracy"] = interval_column(sweep, "average_accuracy")
    lines += ["## λ sweep", "", markdown_table(sweep[["task", "sequence", "measure", "lambda", "num_trials",
                                                     "forgetting", "average accuracy"]]), ""]
    path = Path(out_dir) / paths.SEQUENTIAL_REPORT_MARKDOWN
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
