"""The results schema: what the runners write and the analysis reads, defined once and importing nothing.

Two kinds of results CSV, each with its configuration JSON beside it (``results/foo.csv`` -> ``results/foo.json``):

- **thresholding** (``Experiment``): one row per evaluation of a thresholded model, ``THRESHOLDING_COLUMNS`` in
  that order; a row is identified by ``THRESHOLDING_KEY_COLUMNS``.
- **sequential** (``SequentialLearning``): one row per evaluation of a task after training a task,
  ``SEQUENTIAL_COLUMNS``; a *run* (a model trained on the whole sequence) is identified by
  ``SEQUENTIAL_RUN_COLUMNS`` and a row by those plus ``trained_task`` and ``evaluated_task``.

The names that carry meaning inside the columns are here too, so writers and readers agree on them, and so is the
one reader of results files (``Schema.reading.read_whole_rows``: whole rows only, whenever the file is read).
Arrays on disk (checkpoints, saved importances) have their one writer and reader in ``Schema.arrays`` (standard
library and NumPy; not loaded by ``import Schema``).
"""

from __future__ import annotations

from pathlib import Path

from Schema.reading import WholeRows, read_whole_rows  # noqa: F401  (the reader, importable from Schema)

THRESHOLDING_COLUMNS = (
    "trial", "seed", "task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order",
    "parameters", "replacement", "threshold", "fraction_removed", "loss", "accuracy", "val_loss", "val_accuracy",
    "chance_val_loss", "num_val_examples_used",
)
# The thresholding header of files written before ``num_val_examples_used`` (every validation example at every
# threshold): a run resumed on such a file appends to it in its own layout, and the analysis reads the column as
# absent (all). ``num_val_examples_used``: the validation examples a row's ``val_loss`` and ``val_accuracy`` were
# estimated from (``validation_precision``; ``Experiment/budget.py``).
THRESHOLDING_COLUMNS_BEFORE_BUDGET = THRESHOLDING_COLUMNS[:-1]
THRESHOLDING_KEY_COLUMNS = ("trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order",
                            "threshold")

SEQUENTIAL_COLUMNS = (
    "trial", "seed", "task", "sequence", "measure", "lambda", "trained_task", "evaluated_task", "accuracy", "loss",
    "penalty",
)
SEQUENTIAL_RUN_COLUMNS = ("trial", "measure", "lambda")
SEQUENTIAL_KEY_COLUMNS = SEQUENTIAL_RUN_COLUMNS + ("trained_task", "evaluated_task")
# A sequence has at least this many tasks (the sequential runner refuses fewer).
MIN_SEQUENTIAL_TASKS = 2

# The measure every thresholding run includes, against which the others are judged.
BASELINE_MEASURE = "random"
# ``shuffled:NAME``: NAME's importances permuted within each tensor (a control; see Experiment/controls.py).
CONTROL_PREFIX = "shuffled:"
# ``NAME@VARIANT``: the registry's measure NAME with the options given under the whole label in ``measure_options``
# (``{"fisher@sampled": {"labels": "sampled"}}``); the label is what the ``measure`` column holds.
VARIANT_SEPARATOR = "@"
# ``aggregation_method`` at level ``weight``, where there is nothing to aggregate.
NO_AGGREGATION = "none"
# The sequential ``measure`` of plain fine-tuning (no penalty, run at λ = 0 only), and of Ω = 1.
NO_PENALTY = "none"
UNIFORM_PENALTY = "uniform"

# The bridge study's scores (``Analysis.bridge_study``), named here so that the study's configuration can check a
# declared primary hypothesis against what the analysis computes, and its default primary hypothesis: least-first
# normalised AUC at weight level against forgetting on task A, each measure at its λ chosen on held-out data.
BRIDGE_THRESHOLDING_METRICS = ("auc_least", "auc_most", "tolerance_fraction")
BRIDGE_EWC_SCORES = ("forgetting_a", "average_accuracy")
BRIDGE_PRIMARY = {"primary_thresholding_metric": "auc_least", "primary_ewc_score": "forgetting_a",
                  "primary_aggregation_level": "weight"}

# ``parameters`` of a run that thresholds every trainable tensor (and of results written before the column).
ALL_PARAMETERS = "all"

# Digits of a fraction kept when rows are keyed (thresholds, λ), so 0.1 written and read back is the same key.
KEY_DIGITS = 10


def registry_name(measure: str) -> str:
    """The registry name of a ``measure`` column's value: ``fisher@sampled`` -> ``fisher``, ``shuffled:fisher``
    -> ``fisher``; a plain registry name is returned unchanged."""
    if measure.startswith(CONTROL_PREFIX):
        measure = measure[len(CONTROL_PREFIX):]
    return measure.split(VARIANT_SEPARATOR, 1)[0]


def config_path(results_csv) -> Path:
    """The configuration JSON saved beside a results CSV: ``results/foo.csv`` -> ``results/foo.json``."""
    return Path(results_csv).with_suffix(".json")


def thresholding_key(row: dict) -> tuple:
    """The identity of a thresholding row (``THRESHOLDING_KEY_COLUMNS``), typed, from written or read values."""
    return (int(row["trial"]), int(row["epoch"]), str(row["measure"]), str(row["aggregation_level"]),
            str(row["aggregation_method"]), str(row["scope"]), str(row["order"]),
            round(float(row["threshold"]), KEY_DIGITS))


def sequential_run_key(trial, measure, ewc_lambda) -> tuple:
    """The identity of a sequential run (``SEQUENTIAL_RUN_COLUMNS``), typed."""
    return (int(trial), str(measure), round(float(ewc_lambda), KEY_DIGITS))


def sequential_pairs(num_tasks: int) -> set[tuple[int, int]]:
    """The (trained_task, evaluated_task) rows of a complete sequential run of ``num_tasks`` tasks: after training
    task i, every task j <= i is evaluated, T (T + 1) / 2 rows."""
    return {(i, j) for i in range(num_tasks) for j in range(i + 1)}


# The default tolerance of "the largest fraction removed within tolerance": a loss at most ``L0 (1 + tolerance)``
# (``L0``: the trained loss). The analysis' metric and the adaptive threshold grid, which refines where a curve
# leaves this band, both default to it.
DEFAULT_TOLERANCE = 0.05

# A trained model (threshold 0) whose validation loss is within this fraction of the chance level (the loss with
# every thresholded parameter replaced), or whose accuracy is within it of 1 / classes, never learnt: its curves
# measure noise. The runners warn, the analysis says so in its report.
CHANCE_TOLERANCE = 0.05


def at_chance(val_loss: float, chance_val_loss: float, val_accuracy: float = float("nan"),
              num_classes: int | None = None, tolerance: float = CHANCE_TOLERANCE) -> bool:
    """Whether a trained model performs at chance: its loss L0 is not clearly below the chance loss Lc,
    ``L0 >= Lc - tolerance * |Lc|``, or (where ``num_classes`` is known and the accuracy was measured) its accuracy
    is at most ``(1 + tolerance) / num_classes``. NaN values decide nothing (False)."""
    if val_loss == val_loss and chance_val_loss == chance_val_loss and chance_val_loss != 0:
        if val_loss >= chance_val_loss - tolerance * abs(chance_val_loss):
            return True
    if num_classes and val_accuracy == val_accuracy:
        return val_accuracy <= (1 + tolerance) / num_classes
    return False
