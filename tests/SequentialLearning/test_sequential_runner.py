"""The runner: long-format rows, λ = 0 equals fine-tuning for every measure, resume without duplicates."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from SequentialLearning import COLUMNS, SequentialConfig, run_sequential
from Runs.results import ResultsWriter

KEYS = ["trial", "measure", "lambda", "trained_task", "evaluated_task"]


@pytest.mark.smoke
def test_lambda_zero_equals_plain_fine_tuning_for_every_measure(tmp_path, make_config):
    measures = ["none", "uniform", "random", "fisher", "sign_flips", "si"]
    config = make_config(tmp_path / "zero.csv", measures=measures, ewc_lambdas=[0.0])
    run_sequential(config)
    rows = pd.read_csv(config.results_csv)
    assert list(rows.columns) == list(COLUMNS)
    assert len(rows) == len(measures) * 3  # (0,0), (1,0), (1,1) per run
    assert (rows["lambda"] == 0).all() and (rows["penalty"] == 0).all()
    reference = rows[rows["measure"] == "none"].set_index(["trained_task", "evaluated_task"])
    for measure in measures[1:]:
        run = rows[rows["measure"] == measure].set_index(["trained_task", "evaluated_task"])
        np.testing.assert_array_equal(run["accuracy"], reference["accuracy"], err_msg=measure)
        np.testing.assert_array_equal(run["loss"], reference["loss"], err_msg=measure)
    saved = json.loads(Path(config.results_csv).with_suffix(".json").read_text())
    assert saved["measures"] == measures and saved["ewc_lambdas"] == [0.0]


class Killed(Exception):
    pass


def test_killed_run_resumes_without_duplicates(tmp_path, make_config, monkeypatch):
    changes = dict(measures=["none", "uniform"], ewc_lambdas=[1.0, 10.0])
    whole = make_config(tmp_path / "whole.csv", **changes)
    run_sequential(whole)
    expected = pd.read_csv(whole.results_csv).sort_values(KEYS).reset_index(drop=True)
    assert len(expected) == 3 * 3

    config = make_config(tmp_path / "killed.csv", **changes)
    original = ResultsWriter.append
    calls = {"count": 0}

    def dying_append(self, rows):
        if calls["count"] == 1:
            raise Killed()
        calls["count"] += 1
        original(self, rows)

    monkeypatch.setattr(ResultsWriter, "append", dying_append)
    with pytest.raises(Killed):
        run_sequential(config)
    monkeypatch.setattr(ResultsWriter, "append", original)
    assert len(pd.read_csv(config.results_csv)) == 3  # the first run only

    # A run cut short while its rows were written: two of its three rows and half a line.
    partial = expected[(expected["measure"] == "uniform") & (expected["lambda"] == 1.0)].head(2)
    with open(config.results_csv, "a", newline="") as handle:
        partial.to_csv(handle, header=False, index=False)
        handle.write("0,0,digits,split,uniform,1")

    run_sequential(config)
    resumed = pd.read_csv(config.results_csv)
    assert not resumed.duplicated(KEYS).any()
    resumed = resumed.sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(resumed, expected)

    run_sequential(config)  # complete: nothing is added
    assert len(pd.read_csv(config.results_csv)) == len(expected)


def test_a_different_configuration_is_refused(tmp_path, make_config):
    config = make_config(tmp_path / "run.csv", measures=["none"])
    run_sequential(config)
    with pytest.raises(ValueError, match="epochs: given 2, recorded 1"):
        run_sequential(make_config(tmp_path / "run.csv", measures=["none"], epochs=2))
    run_sequential(make_config(tmp_path / "run.csv", measures=["none"], num_trials=1, progress=False))


def test_configuration_errors_list_the_valid_choices(tmp_path):
    with pytest.raises(ValueError, match="valid: .*'fisher'"):
        SequentialConfig(measures=["fisherr"], results_csv=str(tmp_path / "a.csv"))
    with pytest.raises(ValueError, match="splits are for the split sequence"):
        SequentialConfig(sequence="permuted", splits=[[0], [1]], results_csv=str(tmp_path / "a.csv"))
    with pytest.raises(ValueError, match="valid"):
        SequentialConfig(model="resnet", results_csv=str(tmp_path / "a.csv"))
    with pytest.raises(ValueError, match="labels"):
        SequentialConfig(task_options={"labels": [0, 1]}, results_csv=str(tmp_path / "a.csv"))
    assert SequentialConfig(splits=[[0, 1], [2, 3], [4]], results_csv=str(tmp_path / "a.csv")).num_tasks == 3
    assert SequentialConfig(measures=["none", "fisher"], ewc_lambdas=[1, 10]).runs() == [
        ("none", 0.0), ("fisher", 1.0), ("fisher", 10.0)]
