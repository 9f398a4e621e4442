"""The results file: a partial last line is cut before anything reads it, wherever the cut fell; a line damaged
in the middle is named."""

import pytest

from Runs.results import ResultsWriter, has_rows, read_rows, repair_partial_last_line

COLUMNS = ("trial", "epoch", "threshold", "val_loss")
ROWS = [{"trial": 0, "epoch": 1, "threshold": 0.5, "val_loss": 2.302585}, {"trial": 0, "epoch": 1, "threshold": 1.0,
                                                                         "val_loss": 2.302585}]


@pytest.mark.parametrize("cut", ["0,", "0,1,0.", "0,1,1.0,2.3"])  # inside the key columns, in a value, mid-number
def test_a_partial_last_line_is_never_read_and_is_cut(tmp_path, cut):
    path = tmp_path / "r.csv"
    ResultsWriter(path, COLUMNS).append(ROWS[:1])
    whole = path.read_bytes()
    with path.open("a") as handle:
        handle.write(cut)
    rows = read_rows(path, COLUMNS, "a test")  # before any repair: the partial line is left out
    assert [row["val_loss"] for row in rows] == ["2.302585"]
    assert repair_partial_last_line(path) == len(cut)
    assert path.read_bytes() == whole
    ResultsWriter(path, COLUMNS).append(ROWS[1:])
    assert [row["threshold"] for row in read_rows(path, COLUMNS, "a test")] == ["0.5", "1.0"]


def test_a_cut_header_leaves_an_empty_file_and_no_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("trial,ep")
    assert not has_rows(path) and read_rows(path, COLUMNS, "a test") == []
    repair_partial_last_line(path)
    assert path.read_bytes() == b""


def test_a_line_damaged_in_the_middle_is_named(tmp_path):
    path = tmp_path / "r.csv"
    ResultsWriter(path, COLUMNS).append(ROWS)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "0,1\n" + lines[2])
    with pytest.raises(ValueError, match=r"Line 2 of .*r\.csv does not have the 4 fields[\s\S]*Delete that line"):
        read_rows(path, COLUMNS, "a test")
