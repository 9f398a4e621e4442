"""The tidy results file: one row per evaluation, appended and flushed as soon as it is measured."""

from __future__ import annotations

import csv
from pathlib import Path

from Experiment.records import CSVAppender

COLUMNS = (
    "trial", "seed", "task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order",
    "replacement", "threshold", "fraction_removed", "loss", "accuracy", "val_loss", "val_accuracy",
    "chance_val_loss",
)
# The columns that identify an evaluation; a resumed run skips rows whose key is already recorded.
KEY_COLUMNS = ("trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order",
               "threshold")


def row_key(row: dict) -> tuple:
    return (int(row["trial"]), int(row["epoch"]), str(row["measure"]), str(row["aggregation_level"]),
            str(row["aggregation_method"]), str(row["scope"]), str(row["order"]), round(float(row["threshold"]), 10))


def read_keys(path: str | Path) -> set[tuple]:
    """Keys of the rows already in ``path`` (empty if it does not exist)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return set()
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(
                f"{path} has columns {reader.fieldnames}, expected {list(COLUMNS)}: it was not written by this "
                "version of the runner. Choose another results_csv."
            )
        return {row_key(row) for row in reader if row.get("trial") not in (None, "")}


class ResultsWriter(CSVAppender):
    """Appends rows to the results CSV, writing the header once, and flushes after every call."""

    COLUMNS = COLUMNS
