"""The thresholding results file (columns in ``Schema``): one row per evaluation, appended and flushed as soon as
it is measured, and the keys of the rows already recorded, which a resumed run skips."""

from __future__ import annotations

from pathlib import Path

from Runs.results import ResultsWriter, read_rows
from Schema import THRESHOLDING_COLUMNS, THRESHOLDING_COLUMNS_BEFORE_BUDGET, thresholding_key
from Schema.reading import read_whole_rows

WRITER = "the thresholding runner"


def thresholding_row(config, trial: int, epoch: int, task: str, combination: tuple, threshold: float,
                     fraction_removed: float, train: tuple[float, float], validation, chance_val_loss: float) -> dict:
    """One row of ``THRESHOLDING_COLUMNS``: ``combination`` is (measure, level, method, scope, order) of
    ``config`` (an ``ExperimentConfig``), ``train`` the training subset's ``(loss, accuracy)``, ``validation`` the
    thresholded model's ``Experiment.budget.Evaluated``."""
    measure, level, method, scope, order = combination
    loss, accuracy = train
    row = {
        "trial": trial, "seed": config.trial_seed(trial), "task": task, "epoch": epoch, "measure": measure,
        "aggregation_level": level, "aggregation_method": method, "scope": scope, "order": order,
        "parameters": config.parameters, "replacement": config.replacement, "threshold": threshold,
        "fraction_removed": fraction_removed, "loss": loss, "accuracy": accuracy, "val_loss": validation.loss,
        "val_accuracy": validation.accuracy, "chance_val_loss": chance_val_loss,
        "num_val_examples_used": validation.num_examples,
    }
    return row


def results_writer(path: str | Path) -> ResultsWriter:
    """A writer of thresholding rows to ``path``."""
    return ResultsWriter(path, THRESHOLDING_COLUMNS)


def columns_of(path: str | Path) -> tuple[str, ...]:
    """The columns rows are written to ``path`` with: ``THRESHOLDING_COLUMNS``, or the earlier layout of a file
    written before ``num_val_examples_used`` (whose configuration evaluates every example, so nothing is lost)."""
    path = Path(path)
    if path.exists() and read_whole_rows(path).header == THRESHOLDING_COLUMNS_BEFORE_BUDGET:
        return THRESHOLDING_COLUMNS_BEFORE_BUDGET
    return THRESHOLDING_COLUMNS


def keys_of(rows: list[dict]) -> set[tuple]:
    """Keys (``Schema.thresholding_key``) of rows read back."""
    return {thresholding_key(row) for row in rows}


def read_keys(path: str | Path) -> set[tuple]:
    """Keys of the whole rows already in ``path`` (empty if it does not exist)."""
    return keys_of(read_rows(path, columns_of(path), WRITER))
