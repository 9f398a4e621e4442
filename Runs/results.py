"""The tidy results file shared by the runners: rows appended and flushed as soon as they are measured, a header
written once, a partial last line (a crash while writing) cut, and rows read back with their columns checked.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path


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


def repair_partial_last_line(path: Path) -> None:
    """A crash while writing can leave half a row: cut it so the file stays a valid CSV."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


def read_rows(path: str | Path, columns: tuple[str, ...], writer: str) -> list[dict]:
    """The rows of ``path`` as dicts of strings ([] if it does not exist); a clear error if its header is not
    ``columns`` (``writer`` names the runner that writes such files)."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != tuple(columns):
            raise ValueError(f"{path} has columns {reader.fieldnames}, expected {list(columns)}: it was not written "
                             f"by this version of {writer}. Choose another results_csv.")
        return [row for row in reader if row.get("trial") not in (None, "")]


def _format(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return value
