"""The tidy results file: one row per evaluation of a task after training a task, in long format.

A *run* is one (trial, measure, λ): a model trained on the whole sequence. Its rows (one per evaluated task j <= i
after training task i: T (T + 1) / 2 rows for T tasks) are appended and flushed together when the run ends, so a
killed run leaves either all of its rows or, at worst, a part that ``ResultsWriter.drop_incomplete_runs`` removes
before the run is redone: resuming never duplicates a row.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from Experiment.records import CSVAppender

COLUMNS = (
    "trial", "seed", "task", "sequence", "measure", "lambda", "trained_task", "evaluated_task", "accuracy", "loss",
    "penalty",
)


def run_key(trial, measure, ewc_lambda) -> tuple:
    return (int(trial), str(measure), round(float(ewc_lambda), 10))


def expected_pairs(num_tasks: int) -> set[tuple[int, int]]:
    """(trained_task, evaluated_task) of a complete run."""
    return {(i, j) for i in range(num_tasks) for j in range(i + 1)}


def read_rows(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path} has columns {reader.fieldnames}, expected {list(COLUMNS)}: it was not written "
                             "by the sequential-learning runner. Choose another results_csv.")
        return [row for row in reader if row.get("trial") not in (None, "")]


def completed_runs(path: str | Path, num_tasks: int) -> set[tuple]:
    """Keys (``run_key``) of the runs whose rows are all in ``path``."""
    pairs: dict[tuple, set] = {}
    for row in read_rows(path):
        pairs.setdefault(run_key(row["trial"], row["measure"], row["lambda"]), set()).add(
            (int(row["trained_task"]), int(row["evaluated_task"])))
    want = expected_pairs(num_tasks)
    return {key for key, found in pairs.items() if found >= want}


class ResultsWriter(CSVAppender):
    """Appends rows to the CSV, writing the header once, and flushes after every call."""

    COLUMNS = COLUMNS

    def drop_incomplete_runs(self, num_tasks: int) -> int:
        """Remove the rows of runs that were cut short (and repeated rows); returns how many rows were removed."""
        rows = read_rows(self.path)
        if not rows:
            return 0
        complete = completed_runs(self.path, num_tasks)
        kept, seen = [], set()
        for row in rows:
            key = run_key(row["trial"], row["measure"], row["lambda"])
            pair = (key, int(row["trained_task"]), int(row["evaluated_task"]))
            if key in complete and pair not in seen:
                kept.append(row)
                seen.add(pair)
        if len(kept) == len(rows):
            return 0
        temporary = self.path.with_suffix(".tmp.csv")
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(kept)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(self.path)  # atomic: a crash never leaves half a file
        return len(rows) - len(kept)
