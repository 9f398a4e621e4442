"""Reading a results CSV as it may be found at any moment, during a run or after a crash: whole rows only.

The runners append rows and flush them (``Runs.results``), so a file read while a run writes it, or after a run
stopped in the middle of a row, can end in a *partial last line*: the bytes after its last line end. Such a line
may even look whole (``0,2,2.3`` written as far as ``2.3`` of ``2.302585``, or every field but the last), so the
only safe rule is the writer's own: a row is whole when its line end has been written. ``read_whole_rows``
therefore returns the header and the whole rows, and the partial line apart, for the caller to report; it never
changes the file (only a run that holds the file's lock cuts the partial line, ``Runs.results``).

Every whole line must have as many fields as the header: a line that has more or fewer was damaged or edited in the
middle of the file, and the reader stops with an error naming it, since its values cannot be placed in their
columns. Blank lines are skipped, as ``csv`` and pandas skip them.

Both the runners (which read their rows back to resume) and the analysis (which builds a DataFrame from ``text``)
read through this one function, so they agree on what a row is. Standard library only.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WholeRows:
    """What ``read_whole_rows`` found in ``path``: ``data`` (the header line and the whole rows, the bytes as
    written; ``text`` is the same decoded), ``header`` (its column names; empty when the file holds no whole
    line), ``num_rows`` (whole rows, blank lines not counted) and ``partial_line`` (the partial last line left out,
    '' when the file ends with a line end)."""

    path: Path
    data: bytes
    header: tuple[str, ...]
    num_rows: int
    partial_line: str

    @property
    def text(self) -> str:
        return self.data.decode("utf-8-sig")

    def rows(self) -> list[dict[str, str]]:
        """The whole rows as dicts of strings, keyed by ``header``."""
        return list(csv.DictReader(io.StringIO(self.text, newline="")))


def read_whole_rows(path: str | Path) -> WholeRows:
    """The whole rows of the results CSV ``path`` (module docstring); reads the file once and never changes it.

    Raises ``FileNotFoundError`` when it does not exist and ``ValueError`` when it is not UTF-8 text or a whole
    line has more or fewer fields than the header (naming the line)."""
    path = Path(path)
    with path.open("rb") as handle:
        data = handle.read()
    end = data.rfind(b"\n") + 1
    partial = data[end:].decode("utf-8", errors="replace")
    data = data[:end]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"Results file {path} is not UTF-8 text ({error}); give the path of a results CSV.") from error
    if not data:
        return WholeRows(path, b"", (), 0, partial)
    first = data.find(b"\n") + 1
    header = tuple(next(csv.reader([data[:first].decode("utf-8-sig")]), []))
    num_rows = _check_fields(data, first, len(header), path)
    return WholeRows(path, data, header, num_rows, partial)


def _check_fields(data: bytes, start: int, num_fields: int, path: Path) -> int:
    """The number of non-blank lines after the header (which starts ``data`` and ends before ``start``), each
    checked to hold ``num_fields`` fields. Without a quote character a field can hold no comma or line end, so
    counting commas per line is exact and several times faster than parsing; with quotes, ``csv`` parses."""
    if b'"' not in data:
        lines = data[start:].split(b"\n")
        lines.pop()  # after the last line end: empty
        commas = list(map(bytes.count, lines, itertools.repeat(b",")))
        expected = num_fields - 1
        if expected and commas.count(expected) == len(lines):
            return len(lines)
        num_rows = 0
        for number, (count, line) in enumerate(zip(commas, lines), start=2):
            if line in (b"", b"\r"):
                continue
            if count != expected:
                _damaged(path, number, num_fields)
            num_rows += 1
        return num_rows
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader, None)
    count = 0
    try:
        for row in reader:
            if not row:
                continue
            if len(row) != num_fields:
                _damaged(path, reader.line_num, num_fields)
            count += 1
    except csv.Error as error:
        raise ValueError(f"Results file {path} could not be read as a CSV near line {reader.line_num}: {error}.") \
            from error
    return count


def _damaged(path: Path, line: int, num_fields: int) -> None:
    raise ValueError(
        f"Line {line} of {path} does not have the {num_fields} fields of a row: the file was edited or damaged in "
        "the middle. Delete that line (a resumed run measures its row again) and run again."
    )
