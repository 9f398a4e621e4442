"""The analysis reads results as the runners do, whole rows only: a file read during a run or after a crash (its
last line partial) loads its whole rows, with a warning naming the file, and is never changed."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from Analysis.loading import load_results, load_sequential, read_frame
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS


def _written(path, frame) -> bytes:
    frame.to_csv(path, index=False)
    return path.read_bytes()


# Cuts of the next row: in its key columns (as in "0,2,2.3"), and with every field present but the last value cut
# short (2.3 of 2.302585), which only the missing line end gives away.
@pytest.mark.parametrize("cut", ["keys", "last value"])
def test_a_partial_last_line_is_left_out_with_a_warning_and_the_file_kept(tmp_path, make_results, cut):
    path = tmp_path / "run.csv"
    results = make_results(num_trials=2, orders=("least",))
    whole = _written(path, results.iloc[:-1])
    last = results.iloc[[-1]].to_csv(index=False, header=False).rstrip("\r\n")
    partial = "0,2,2.3" if cut == "keys" else last[: last.rindex(",") + 4]
    path.write_bytes(whole + partial.encode())
    with pytest.warns(UserWarning) as caught:
        loaded = load_results(path)
    messages = [str(w.message) for w in caught]
    assert any("run.csv ends in a partial line" in m and "left out of the analysis" in m for m in messages)
    assert any("lacks thresholds [1]" in m for m in messages)  # and the curve it belongs to says so
    assert len(loaded) == len(results) - 1
    np.testing.assert_array_equal(loaded["chance_val_loss"], results["chance_val_loss"].iloc[:-1])
    assert path.read_bytes() == whole + partial.encode()


def test_a_whole_file_loads_without_a_warning_as_pandas_reads_it(tmp_path, make_results):
    path = tmp_path / "run.csv"
    _written(path, make_results(num_trials=2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame = read_frame(path)
    pd.testing.assert_frame_equal(frame, pd.read_csv(path))


def test_a_line_damaged_in_the_middle_is_an_error_naming_it(tmp_path, make_results):
    path = tmp_path / "run.csv"
    lines = _written(path, make_results(num_trials=1)).decode().splitlines(keepends=True)
    path.write_text("".join(lines[:3] + ["0,0,digits,1\n"] + lines[3:]), newline="")
    expected = rf"Line 4 of .*run\.csv does not have the {len(THRESHOLDING_COLUMNS)} fields"
    with pytest.raises(ValueError, match=expected):
        load_results(path)


def test_a_file_with_only_a_partial_header_is_empty(tmp_path):
    path = tmp_path / "run.csv"
    path.write_text("trial,seed,ta")
    with pytest.warns(UserWarning, match="partial line"), pytest.raises(ValueError, match="is empty"):
        load_results(path)


def test_a_sequential_file_cut_in_a_row_loads_its_whole_rows(tmp_path):
    path = tmp_path / "seq.csv"
    rows = [[0, 0, "digits", "split", "none", 0.0, 0, 0, 0.95, 0.1, 0.0],
            [0, 0, "digits", "split", "none", 0.0, 1, 0, 0.50, 0.9, 0.0]]
    whole = _written(path, pd.DataFrame(rows, columns=list(SEQUENTIAL_COLUMNS)))
    path.write_bytes(whole + b"0,0,digits,split,none,0.0,1,1,0.9")  # accuracy 0.9 of 0.97, loss not written
    path.with_suffix(".json").write_text(json.dumps({"num_tasks": 2}))
    with pytest.warns(UserWarning, match=r"seq\.csv ends in a partial line"):
        loaded = load_sequential(path)
    assert loaded[["trained_task", "evaluated_task"]].values.tolist() == [[0, 0], [1, 0]]
