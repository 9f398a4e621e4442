"""Every file name the analysis reads or writes, built in one place."""

from __future__ import annotations

import re
from pathlib import Path

SUMMARY_CSV = "summary.csv"
TRIAL_METRICS_CSV = "trial_metrics.csv"
CURVES_CSV = "curves.csv"
COMPARISONS_CSV = "comparisons.csv"
STABILITY_CSV = "stability.csv"
REPORT_MARKDOWN = "report.md"


def config_path(csv_path) -> Path:
    """The configuration JSON saved beside a results CSV: ``results/foo.csv`` -> ``results/foo.json``."""
    return Path(csv_path).with_suffix(".json")


def safe_name(*parts) -> str:
    """A file-name-safe join of ``parts`` (``shuffled:fisher`` -> ``shuffled-fisher``)."""
    return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", str(part)).strip("-") for part in parts)


def curves_figure(out_dir, task, epoch, aggregation_level, aggregation_method) -> Path:
    """Loss curves of every measure for one epoch and aggregation."""
    return Path(out_dir) / f"{safe_name('curves', task, f'epoch{epoch}', aggregation_level, aggregation_method)}.png"


def aggregation_figure(out_dir, task, epoch, measure) -> Path:
    """Loss curves of one measure, one line per aggregation."""
    return Path(out_dir) / f"{safe_name('aggregations', task, f'epoch{epoch}', measure)}.png"


def overview_figure(out_dir, task, scope, order, replacement) -> Path:
    """Grid of loss curves over epochs (rows) and aggregations (columns)."""
    return Path(out_dir) / f"{safe_name('overview', task, scope, order, replacement)}.png"


def significance_figure(out_dir, task, epoch, aggregation_level, aggregation_method) -> Path:
    """Matrices of Holm-corrected p-values between measures, for one epoch and aggregation."""
    name = safe_name("significance", task, f"epoch{epoch}", aggregation_level, aggregation_method)
    return Path(out_dir) / f"{name}.png"


def stability_figure(out_dir, task) -> Path:
    """Kendall's W of the measures' rankings across trials and across epochs."""
    return Path(out_dir) / f"{safe_name('stability', task)}.png"
