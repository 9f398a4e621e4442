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


# The importance atlas (``Analysis.atlas``). What it reads: ``results/foo_importances/trial_k/epoch_e/MEASURE.npz``,
# the folder ``Runs.paths.importances_file`` writes beside ``results/foo.csv`` (the suffix is repeated here because
# the analysis does not import the run layer; a test checks that both agree).
IMPORTANCES_SUFFIX = "_importances"
ATLAS_AGREEMENT_CSV = "atlas_agreement.csv"
ATLAS_OVERLAP_CSV = "atlas_overlap.csv"
ATLAS_ALLOCATION_CSV = "atlas_allocation.csv"
ATLAS_DISTRIBUTION_CSV = "atlas_distribution.csv"
ATLAS_FIRST_LAYER_CSV = "atlas_first_layer.csv"
ATLAS_REPORT_MARKDOWN = "inside_the_measures.md"
ATLAS_FIGURES = ("agreement", "overlap", "allocation", "distribution", "first_layer")


def importances_folder(results_csv) -> Path:
    """``results/foo.csv`` -> ``results/foo_importances``."""
    path = Path(results_csv)
    return path.with_name(path.stem + IMPORTANCES_SUFFIX)


def results_csv_of(importances_folder) -> Path:
    """``results/foo_importances`` -> ``results/foo.csv`` (the run's results, its configuration beside them)."""
    path = Path(importances_folder)
    name = path.name[:-len(IMPORTANCES_SUFFIX)] if path.name.endswith(IMPORTANCES_SUFFIX) else path.name
    return path.with_name(name + ".csv")


def atlas_figure(out_dir, kind, run, epoch) -> Path:
    """One figure of the importance atlas (``kind`` one of ``ATLAS_FIGURES``) of one run at one epoch."""
    if kind not in ATLAS_FIGURES:
        raise ValueError(f"Unknown atlas figure {kind!r}; valid: {list(ATLAS_FIGURES)}.")
    return Path(out_dir) / f"{safe_name('inside', kind, run, f'epoch{epoch}')}.png"
