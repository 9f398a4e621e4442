"""Every file name the analysis writes, built in one place (what it reads: the results CSVs it is given, and the
configuration JSON beside each, ``Schema.config_path``). Figures are named here with ``.png``; ``save_figure``
writes each format asked for with its own suffix."""

from __future__ import annotations

import re
from pathlib import Path

from Schema import ALL_PARAMETERS

SUMMARY_CSV = "summary.csv"
TRIAL_METRICS_CSV = "trial_metrics.csv"
CURVES_CSV = "curves.csv"
COMPARISONS_CSV = "comparisons.csv"
STABILITY_CSV = "stability.csv"
REPORT_MARKDOWN = "report.md"

SEQUENTIAL_SUMMARY_CSV = "sequential_summary.csv"
SEQUENTIAL_RUN_METRICS_CSV = "sequential_run_metrics.csv"
SEQUENTIAL_LAMBDA_SWEEP_CSV = "sequential_lambda_sweep.csv"
THRESHOLDING_VS_EWC_CSV = "thresholding_vs_ewc.csv"
SEQUENTIAL_REPORT_MARKDOWN = "sequential_report.md"


def safe_name(*parts) -> str:
    """A file-name-safe join of ``parts`` (``shuffled:fisher`` -> ``shuffled-fisher``)."""
    return "_".join(re.sub(r"[^A-Za-z0-9.+-]+", "-", str(part)).strip("-") for part in parts)


def curves_figure(out_dir, task, epoch, aggregation_level, aggregation_method) -> Path:
    """Loss curves of every measure for one epoch and aggregation."""
    return Path(out_dir) / f"{safe_name('curves', task, f'epoch{epoch}', aggregation_level, aggregation_method)}.png"


def aggregation_figure(out_dir, task, epoch, measure) -> Path:
    """Loss curves of one measure, one line per aggregation."""
    return Path(out_dir) / f"{safe_name('aggregations', task, f'epoch{epoch}', measure)}.png"


def overview_figure(out_dir, task, scope, order, replacement, parameters: str = ALL_PARAMETERS) -> Path:
    """Grid of loss curves over epochs (rows) and aggregations (columns); ``parameters`` named unless ``all``."""
    extra = () if parameters == ALL_PARAMETERS else (parameters,)
    return Path(out_dir) / f"{safe_name('overview', task, scope, order, *extra, replacement)}.png"


def significance_figure(out_dir, task, epoch, aggregation_level, aggregation_method) -> Path:
    """Matrices of Holm-corrected p-values between measures, for one epoch and aggregation."""
    name = safe_name("significance", task, f"epoch{epoch}", aggregation_level, aggregation_method)
    return Path(out_dir) / f"{name}.png"


def stability_figure(out_dir, task) -> Path:
    """Kendall's W of the measures' rankings across trials and across epochs."""
    return Path(out_dir) / f"{safe_name('stability', task)}.png"


def accuracy_matrices_figure(out_dir, task, sequence) -> Path:
    """Mean accuracy matrix of every measure at its best λ, for one task and sequence."""
    return Path(out_dir) / f"{safe_name('accuracy_matrices', task, sequence)}.png"


def forgetting_figure(out_dir, task, sequence) -> Path:
    """Forgetting per measure at its best λ, for one task and sequence."""
    return Path(out_dir) / f"{safe_name('forgetting', task, sequence)}.png"


def lambda_sweep_figure(out_dir, task, sequence) -> Path:
    """Average accuracy and forgetting against λ, for one task and sequence."""
    return Path(out_dir) / f"{safe_name('lambda_sweep', task, sequence)}.png"
