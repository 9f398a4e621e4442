"""The thresholding results file (columns in ``Schema``): one row per evaluation, appended and flushed as soon as
it is measured, and the keys of the rows already recorded, which a resumed run skips."""

from __future__ import annotations

from pathlib import Path

from Runs.results import ResultsWriter, read_rows
from Schema import THRESHOLDING_COLUMNS, thresholding_key

WRITER = "the thresholding runner"


def results_writer(path: str | Path) -> ResultsWriter:
    """A writer of thresholding rows to ``path``."""
    return ResultsWriter(path, THRESHOLDING_COLUMNS)


def keys_of(rows: list[dict]) -> set[tuple]:
    """Keys (``Schema.thresholding_key``) of rows read back."""
    return {thresholding_key(row) for row in rows}


def read_keys(path: str | Path) -> set[tuple]:
    """Keys of the whole rows already in ``path`` (empty if it does not exist)."""
    return keys_of(read_rows(path, THRESHOLDING_COLUMNS, WRITER))
