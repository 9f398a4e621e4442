"""A run that dies resumes where it stopped: one complete CSV, nothing duplicated, nothing missing."""

import pandas as pd
import pytest

from Experiment import expected_keys, run_experiment
from Experiment.results import results_writer
from Runs.results import ResultsWriter
from Schema import THRESHOLDING_COLUMNS, THRESHOLDING_KEY_COLUMNS, thresholding_key

KEYS = list(THRESHOLDING_KEY_COLUMNS)


class Killed(Exception):
    pass


def _run_killed_after(config, monkeypatch, num_rows):
    original = ResultsWriter.append
    calls = {"rows": 0}

    def dying_append(self, rows):
        if calls["rows"] >= num_rows:
            raise Killed()
        calls["rows"] += len(rows)
        original(self, rows)

    monkeypatch.setattr(ResultsWriter, "append", dying_append)
    with pytest.raises(Killed):
        run_experiment(config)
    monkeypatch.setattr(ResultsWriter, "append", original)


@pytest.mark.parametrize("num_rows", [17, 60])  # in the first epoch's grid; in the second epoch's grid
def test_killed_run_resumes_to_the_same_complete_results(make_config, tmp_path, monkeypatch, num_rows):
    config = make_config(tmp_path / "killed.csv", measures=["magnitude", "sign_flips"])
    _run_killed_after(config, monkeypatch, num_rows)
    assert len(pd.read_csv(config.results_csv)) == num_rows
    run_experiment(config)
    resumed = pd.read_csv(config.results_csv)
    assert not resumed.duplicated(KEYS).any()
    want = expected_keys(config, 0, 1) | expected_keys(config, 0, 2)
    got = {thresholding_key(row) for row in resumed.to_dict("records")}
    assert got == want

    uninterrupted = make_config(tmp_path / "whole.csv", measures=["magnitude", "sign_flips"])
    run_experiment(uninterrupted)
    whole = pd.read_csv(uninterrupted.results_csv)
    merged = whole.merge(resumed, on=KEYS, suffixes=("", "_resumed"))
    assert len(merged) == len(whole)
    for column in ["fraction_removed", "val_loss", "loss", "val_accuracy"]:
        pd.testing.assert_series_equal(merged[column], merged[column + "_resumed"], check_names=False,
                                       rtol=1e-5, atol=1e-6)


def test_half_written_last_row_is_cut(tmp_path):
    path = tmp_path / "r.csv"
    writer = results_writer(path)
    row = {c: 0 for c in THRESHOLDING_COLUMNS}
    writer.append([row])
    with path.open("a") as handle:
        handle.write("0,0,digi")
    results_writer(path)
    assert len(pd.read_csv(path)) == 1


def test_results_without_their_configuration_are_refused(make_config, tmp_path):
    path = tmp_path / "orphan.csv"
    path.write_text("trial,seed\n0,0\n")
    with pytest.raises(ValueError, match="its configuration .* does not"):
        run_experiment(make_config(path))
