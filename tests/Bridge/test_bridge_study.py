"""The study judges the same importances both ways, writes every row once, and resumes without training again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from Bridge import part_csv, run_bridge
from Bridge.paths import first_task_checkpoint
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS
from SequentialLearning import SequentialLearner, normalize_importances


def _read(config, part):
    return pd.read_csv(part_csv(config.results_dir, part))


def test_every_row_is_written_once(tiny_study):
    config, _ = tiny_study
    thresholding = _read(config, "thresholding")
    assert list(thresholding.columns) == list(THRESHOLDING_COLUMNS)
    labels = config.labels()
    assert sorted(thresholding["measure"].unique()) == sorted(labels)
    assert len(thresholding) == len(labels) * len(config.orders) * config.num_thresholds
    assert (thresholding["epoch"] == config.epochs).all()
    for part in ("sequential", "selection"):
        rows = _read(config, part)
        assert list(rows.columns) == list(SEQUENTIAL_COLUMNS)
        assert not rows.duplicated(["trial", "measure", "lambda", "trained_task", "evaluated_task"]).any()
        assert sorted(rows["measure"].unique()) == sorted(["none", "uniform", *labels])
        assert len(rows) == len(config.runs()) * 3  # two tasks: (0, 0), (1, 0), (1, 1)
    # Task A's validation data are thresholded and reported: at threshold 0 the model is the one every run starts at.
    start = _read(config, "sequential").query("trained_task == 0")
    untouched = thresholding.query("threshold == 0")
    assert np.allclose(untouched["val_loss"], start["loss"].iloc[0])
    assert np.allclose(start["loss"], start["loss"].iloc[0])
    assert not first_task_checkpoint(config.results_dir, 0, config.epochs).exists()


def test_omega_of_each_measure_is_the_importances_the_thresholding_ranked(tiny_study):
    config, recorded = tiny_study
    # EpochGrid ranks in label order, each label once per order; EWC consolidates task A in config.ewc_measures()
    # order ("none" consolidates nothing), and with two tasks nothing after task B.
    ranked_labels = [label for label in config.labels() for _ in config.orders]
    assert len(recorded.ranked) == len(ranked_labels)
    consolidated_labels = [label for label in config.ewc_measures() if label != "none"]
    assert len(recorded.consolidated) == len(consolidated_labels)
    consolidated = dict(zip(consolidated_labels, recorded.consolidated))
    assert all(np.all(a == 1) for a in consolidated["uniform"][0])
    for label in config.labels():
        importances, omega = consolidated[label]
        for ranked_label, ranked in zip(ranked_labels, recorded.ranked):
            if ranked_label == label:
                assert all(np.array_equal(a, b) for a, b in zip(importances, ranked, strict=True)), label
        expected = normalize_importances(importances, config.normalization)
        assert all(np.allclose(a, b) for a, b in zip(omega, expected, strict=True))
    # Two variants of one measure are two sets of importances.
    assert not all(np.array_equal(a, b) for a, b in zip(consolidated["fisher"][0], consolidated["fisher@sampled"][0]))


def test_each_measure_is_computed_once_on_task_a(tiny_study):
    _, recorded = tiny_study
    assert recorded.computed == {"random": 1, "magnitude": 1, "fisher": 2, "si": 1}  # fisher: two labels
    assert recorded.trained.count(0) == 1  # task A trained once, for every measure


def test_a_finished_study_is_skipped_without_training_or_writing(tiny_study, monkeypatch):
    config, _ = tiny_study
    before = {part: part_csv(config.results_dir, part).read_bytes() for part in ("thresholding", "sequential",
                                                                                  "selection")}

    def refuse(*args, **kwargs):
        raise AssertionError("a finished study trained again")

    monkeypatch.setattr(SequentialLearner, "train_task", refuse)
    monkeypatch.setattr(SequentialLearner, "__init__", refuse)
    run_bridge(config)
    assert {part: part_csv(config.results_dir, part).read_bytes() for part in before} == before


def test_a_study_stopped_after_task_a_resumes_from_its_checkpoint(make_config, tmp_path, monkeypatch):
    config = make_config(tmp_path / "study", measures=["magnitude"], measure_options={})  # 4 runs
    run = SequentialLearner.run
    calls = []

    def stopping(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run(self, *args, **kwargs)

    monkeypatch.setattr(SequentialLearner, "run", stopping)
    with pytest.raises(KeyboardInterrupt):
        run_bridge(config)
    assert first_task_checkpoint(config.results_dir, 0, config.epochs).exists()
    written = {part: part_csv(config.results_dir, part).read_bytes() for part in ("thresholding", "sequential")}
    monkeypatch.setattr(SequentialLearner, "run", run)
    trained = []
    train_task = SequentialLearner.train_task
    monkeypatch.setattr(SequentialLearner, "train_task", lambda self, i: (trained.append(i), train_task(self, i)))
    run_bridge(config)
    assert trained == [1, 1]  # task A came from the checkpoint; only the two runs not yet written learnt task B
    assert part_csv(config.results_dir, "thresholding").read_bytes() == written["thresholding"]
    assert part_csv(config.results_dir, "sequential").read_bytes().startswith(written["sequential"])
    sequential = _read(config, "sequential")
    assert len(sequential) == len(config.runs()) * 3
    assert not sequential.duplicated(["measure", "lambda", "trained_task", "evaluated_task"]).any()
    # The runs made after the checkpoint was read start from the model that was thresholded.
    untouched = _read(config, "thresholding").query("threshold == 0")["val_loss"]
    assert np.allclose(sequential.query("trained_task == 0")["loss"], untouched.iloc[0])
    assert not first_task_checkpoint(config.results_dir, 0, config.epochs).exists()
