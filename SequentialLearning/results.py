"""The sequential results file (columns in ``Schema``): one row per evaluation of a task after training a task.

A *run* is one (trial, measure, λ): a model trained on the whole sequence. Its rows (one per evaluated task j <= i
after training task i: T (T + 1) / 2 rows for T tasks) are appended and flushed together when the run ends, so a
killed run leaves either all of its rows or, at worst, a part that ``drop_incomplete_runs`` removes before the
run is redone: resuming never duplicates a row.
"""

from __future__ import annotations

import csv
from pathlib import Path

from Runs.files import replace_atomically
from Runs.results import ResultsWriter, read_rows
from Schema import SEQUENTIAL_COLUMNS, sequential_run_key

WRITER = "the sequential-learning runner"


def results_writer(path: str | Path) -> ResultsWriter:
    """A writer of sequential rows to ``path``."""
    return ResultsWriter(path, SEQUENTIAL_COLUMNS)


def expected_pairs(num_tasks: int) -> set[tuple[int, int]]:
    """(trained_task, evaluated_task) of a complete run."""
    return {(i, j) for i in range(num_tasks) for j in range(i + 1)}


def completed_runs(path: str | Path, num_tasks: int) -> set[tuple]:
    """Keys (``Schema.sequential_run_key``) of the runs whose rows are all in ``path``."""
    return _completed(read_rows(path, SEQUENTIAL_COLUMNS, WRITER), num_tasks)


def _completed(rows: list[dict], num_tasks: int) -> set[tuple]:
    pairs: dict[tuple, set] = {}
    for row in rows:
        pairs.setdefault(sequential_run_key(row["trial"], row["measure"], row["lambda"]), set()).add(
            (int(row["trained_task"]), int(row["evaluated_task"])))
    want = expected_pairs(num_tasks)
    return {key for key, found in pairs.items() if found >= want}


def drop_incomplete_runs(path: str | Path, num_tasks: int) -> int:
    """Remove the rows of runs that were cut short (and repeated rows); returns how many rows were removed."""
    rows = read_rows(path, SEQUENTIAL_COLUMNS, WRITER)
    if not rows:
        return 0
    complete = _completed(rows, num_tasks)
    kept, seen = [], set()
    for row in rows:
        key = sequential_run_key(row["trial"], row["measure"], row["lambda"])
        pair = (key, int(row["trained_task"]), int(row["evaluated_task"]))
        if key in complete and pair not in seen:
            kept.append(row)
            seen.add(pair)
    if len(kept) == len(rows):
        return 0

    def write(temporary: Path) -> None:
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=SEQUENTIAL_COLUMNS)
            writer.writeheader()
            writer.writerows(kept)

    replace_atomically(path, write)
    return len(rows) - len(kept)
