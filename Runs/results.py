"""The tidy results file shared by the runners: rows appended and flushed as soon as they are measured, a header
written once, a partial last line (a crash while writing) cut, and rows read back with their columns checked.

One rule: a crash can only leave a partial *last* line. Reading never returns it: ``read_rows`` reads through
``Schema.reading.read_whole_rows``, the reader the analysis uses too, so nothing ever reads half a row (a value cut
short, such as 2.30 read as 2.0), whether the file is read during a run, after a crash or before a resume. Only the
run that holds the file (``Runs.run_files.RunFiles``) changes it: it cuts the partial line
(``repair_partial_last_line``) before it appends.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from pathlib import Path

from Schema.reading import read_whole_rows

# Where a runner hands the rows it has measured, as they are measured (a results writer's ``append``, a study's
# part, a test's list): every runner and study calls its sink with a list of whole rows.
RowSink = Callable[[list[dict]], None]


class ResultsWriter:
    """Appends rows with the columns ``columns`` to a CSV, writing the header once, and flushes after every call."""

    def __init__(self, path: str | Path, columns: tuple[str, ...]):
        self.path = Path(path)
        self.columns = tuple(columns)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        repair_partial_last_line(self.path)

    def append(self, rows: list[dict]) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns)
            if new_file:
                writer.writeheader()
            for row in rows:
                writer.writerow({k: _format(row[k]) for k in self.columns})
            handle.flush()


def repair_partial_last_line(path: str | Path) -> int:
    """Cut a partial last line (a crash while writing a row) so the file ends with a whole row; returns the number
    of bytes cut. The file is truncated in place: the whole rows before it are never rewritten."""
    path = Path(path)
    if not path.exists():
        return 0
    size = path.stat().st_size
    end = _end_of_last_line(path, size)
    if end < size:
        os.truncate(path, end)
    return size - end


def _end_of_last_line(path: Path, size: int, block: int = 1 << 16) -> int:
    """The offset just after the file's last newline (0 if it has none), read backwards from the end."""
    with path.open("rb") as handle:
        position = size
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            found = handle.read(position - start).rfind(b"\n")
            if found >= 0:
                return start + found + 1
            position = start
    return 0


def has_rows(path: str | Path) -> bool:
    """Whether ``path`` holds a whole line after its header (whatever its columns)."""
    path = Path(path)
    if not path.exists():
        return False
    with path.open("rb") as handle:
        handle.readline()
        return handle.readline().endswith(b"\n")


def read_rows(path: str | Path, columns: tuple[str, ...], writer: str) -> list[dict]:
    """The whole rows of ``path`` as dicts of strings ([] if it does not exist; a partial last line is left out,
    ``Schema.reading``); a clear error if its header is not ``columns`` (``writer`` names the runner that writes such
    files) or a line has the wrong number of fields."""
    path = Path(path)
    if not path.exists():
        return []
    found = read_whole_rows(path)
    if not found.header:
        return []
    if found.header != tuple(columns):
        raise ValueError(f"{path} has columns {list(found.header)}, expected {list(columns)}: it was not written "
                         f"by this version of {writer}. Choose another results_csv.")
    return [row for row in found.rows() if row["trial"] != ""]


def _format(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return value
