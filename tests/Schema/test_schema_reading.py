"""The one reader of results files: whole rows only, whatever moment the file is read at; a partial last line left
out (and the file never changed); a line damaged in the middle named; the standard library only."""

import ast
import sys
from pathlib import Path

import pytest

from Schema.reading import read_whole_rows

SCHEMA = Path(__file__).resolve().parents[2] / "Schema"
HEADER = "trial,epoch,threshold,val_loss\r\n"
WHOLE = HEADER + "0,1,0.5,2.302585\r\n" + "0,1,1.0,2.302585\r\n"


@pytest.mark.parametrize("cut", ["0,", "0,2,2.3", "0,2,1.0,2.3", "0,2,1.0,2.302585\r"])
def test_a_partial_last_line_is_left_out_and_the_file_is_not_changed(tmp_path, cut):
    # "0,2,1.0,2.3" has every field: only its missing line end shows that 2.3 is 2.302585 cut short.
    path = tmp_path / "r.csv"
    path.write_bytes((WHOLE + cut).encode())
    found = read_whole_rows(path)
    assert found.header == ("trial", "epoch", "threshold", "val_loss")
    assert found.num_rows == 2 and [row["threshold"] for row in found.rows()] == ["0.5", "1.0"]
    assert found.partial_line == cut
    assert found.text == WHOLE
    assert path.read_bytes() == (WHOLE + cut).encode()


def test_a_file_that_ends_with_its_line_end_has_no_partial_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(WHOLE, newline="")
    found = read_whole_rows(path)
    assert found.partial_line == "" and found.num_rows == 2


def test_a_cut_header_leaves_no_header_and_no_rows(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("trial,ep")
    found = read_whole_rows(path)
    assert found.header == () and found.num_rows == 0 and found.partial_line == "trial,ep"
    assert found.rows() == []


@pytest.mark.parametrize("line", ["0,1\r\n", "0,1,0.5,2.3,9\r\n"])  # too few, too many
def test_a_line_damaged_in_the_middle_is_named(tmp_path, line):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "0,1,0.5,2.302585\r\n" + line + "0,1,1.0,2.302585\r\n", newline="")
    with pytest.raises(ValueError, match=r"Line 3 of .*r\.csv does not have the 4 fields[\s\S]*Delete that line"):
        read_whole_rows(path)


def test_quoted_fields_are_parsed_and_their_lines_counted(tmp_path):
    # A quoted label may hold commas: the fields are counted by csv, and a damaged line is still named.
    path = tmp_path / "r.csv"
    path.write_text('trial,task,val_loss\r\n0,"pkg.mod:build, v2",0.5\r\n\r\n1,"a",0.7\r\n', newline="")
    found = read_whole_rows(path)
    assert found.num_rows == 2  # the blank line is skipped, as csv and pandas skip it
    assert [row["task"] for row in found.rows()] == ["pkg.mod:build, v2", "a"]
    path.write_text('trial,task,val_loss\r\n0,"x, y"\r\n', newline="")
    with pytest.raises(ValueError, match="Line 2 of"):
        read_whole_rows(path)


def test_blank_lines_are_skipped_without_quotes_too(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\r\n" + "0,1,0.5,2.3\r\n" + "\n", newline="")
    assert read_whole_rows(path).num_rows == 1


def test_a_file_that_is_not_utf8_is_an_error_naming_it(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"trial\n\xff\xfe\n")
    with pytest.raises(ValueError, match=r"r\.csv is not UTF-8"):
        read_whole_rows(path)


def test_schema_imports_only_the_standard_library_and_itself():
    """Only ``Schema.arrays`` (the writer of arrays on disk) and ``Schema.lambda_choice`` (the rule choosing λ from
    an array of accuracies) import NumPy besides, and ``import Schema`` loads neither."""
    for path in SCHEMA.glob("*.py"):
        allowed = set(sys.stdlib_module_names) | {"__future__", "Schema"} | (
            {"numpy"} if path.name in ("arrays.py", "lambda_choice.py") else set())
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert imported <= allowed, (path.name, imported - allowed)
