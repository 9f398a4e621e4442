"""A run with ``tensorboard_dir`` writes, per trial, the epochs' training and validation curves, each measure's
importance histograms at each measured epoch and every curve as it is measured; the results are those of a run
without the log, and the log may be switched on when a run resumes."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

pytest.importorskip("tensorboard", reason="the TensorBoard log needs the tensorboard package "
                                          "(requirements-tensorboard.txt)")

import Tasks  # noqa: E402
from Experiment import ExperimentConfig, run_experiment  # noqa: E402
from Runs.tensorboard import read_events  # noqa: E402


def test_a_logged_run_writes_every_tag_and_the_same_rows(make_config, tmp_path):
    plain = make_config(tmp_path / "plain.csv", num_trials=2, measures=["magnitude", "fisher"],
                        aggregation_levels=["weight"], num_thresholds=3)
    run_experiment(plain)
    logged = make_config(tmp_path / "logged.csv", num_trials=2, measures=["magnitude", "fisher"],
                         aggregation_levels=["weight"], num_thresholds=3, tensorboard_dir=str(tmp_path / "tb"))
    run_experiment(logged)
    rows = pd.read_csv(logged.results_csv)
    pd.testing.assert_frame_equal(rows, pd.read_csv(plain.results_csv))  # the log measures nothing, changes nothing
    assert json.loads((tmp_path / "logged.json").read_text())["tensorboard_dir"] == str(tmp_path / "tb")

    events = read_events(tmp_path / "tb" / "trial_1")
    for tag in ("train/loss", "train/accuracy", "validation/loss", "validation/accuracy"):
        assert [step for step, _ in events[tag]] == [1, 2], tag
    # The validation loss logged after the last epoch is the curves' threshold-0 loss.
    first = rows[(rows.trial == 1) & (rows.epoch == 2) & (rows.threshold == 0)]["val_loss"].iloc[0]
    assert math.isclose(events["validation/loss"][-1][1], first, rel_tol=1e-5)
    histograms = [tag for tag in events if tag.startswith("importance/")]
    assert {tag.split("/")[1] for tag in histograms} == {"magnitude", "fisher", "random"}
    # One histogram per trainable tensor of the digits CNN, at each measured epoch.
    num_tensors = len(Tasks.get_task("digits", seed=0).model.trainable_weights)
    assert len([tag for tag in histograms if tag.startswith("importance/magnitude/")]) == num_tensors == 12
    kernel = next(tag for tag in histograms if tag.startswith("importance/magnitude/") and tag.endswith("kernel"))
    assert [step for step, _ in events[kernel]] == [1, 2]
    curve = "curves/epoch_2/fisher/weight_none/layer/least"
    measured = rows[(rows.trial == 1) & (rows.epoch == 2) & (rows.measure == "fisher")].sort_values("threshold")
    assert [step for step, _ in events[curve]] == [round(f * 1000) for f in measured["fraction_removed"]]
    assert [value for _, value in events[curve]] == pytest.approx(measured["val_loss"].tolist(), rel=1e-6)


def test_a_missing_tensorboard_package_is_a_clear_error(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == "tensorboard":
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match="requirements-tensorboard.txt"):
        ExperimentConfig(results_csv=str(tmp_path / "r.csv"), tensorboard_dir=str(tmp_path / "tb"))
    with pytest.raises(ValueError, match="tensorboard_dir must be a folder path or None"):
        ExperimentConfig(results_csv=str(tmp_path / "r.csv"), tensorboard_dir="")
