"""The tidy results file: one row per evaluation, appended and flushed as soon as it is measured."""

from __future__ import annotations

import csv
import math
from pathlib import Path

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


class ResultsWriter:
    """Appends rows to the CSV, writing the header once, and flushes after every call."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_partial_last_line()

    def _repair_partial_last_line(self) -> None:
        """A crash while writing can leave half a row: cut it so the file stays a valid CSV."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    def append(self, rows: list[dict]) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            if new_file:
                writer.writeheader()
            for row in rows:
                writer.writerow({k: _format(row[k]) for k in COLUMNS})
            handle.flush()


def _format(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return value
