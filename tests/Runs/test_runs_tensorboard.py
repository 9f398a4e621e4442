"""The TensorBoard log of a trial: the tags and steps written are read back from the event files."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("tensorboard", reason="the TensorBoard log needs the tensorboard package "
                                          "(requirements-tensorboard.txt)")

import tensorflow as tf  # noqa: E402

from Runs.tensorboard import TrialLog, curve_tag, logging_sink, read_events  # noqa: E402


def row(measure, fraction, val_loss, epoch=2):
    return {"epoch": epoch, "measure": measure, "aggregation_level": "weight", "aggregation_method": "none",
            "scope": "layer", "order": "least", "fraction_removed": fraction, "val_loss": val_loss,
            "chance_val_loss": 2.3}


def test_a_trial_log_holds_epochs_importances_and_curves(tmp_path):
    log = TrialLog(tmp_path, trial=3)
    log.epoch(1, {"loss": 1.5, "accuracy": 0.4}, (1.25, 0.5))
    log.epoch(2, {"loss": 0.75}, (0.5, math.nan))          # no accuracy: nothing written for it
    log.importances(2, "fisher", ["model/dense/kernel", "model/dense/bias"], [np.ones((3, 2)), np.zeros(2)])
    rows = []
    sink = logging_sink(rows.extend, log)
    sink([row("fisher", 0.0, 0.5), row("fisher", 0.25, 0.75)])
    log.close()
    assert len(rows) == 2  # the rows still reach the sink
    events = read_events(tmp_path / "trial_3")
    assert events["train/loss"] == [(1, 1.5), (2, 0.75)]
    assert events["train/accuracy"] == [(1, pytest.approx(0.4))]
    assert events["validation/loss"] == [(1, 1.25), (2, 0.5)]
    assert events["validation/accuracy"] == [(1, 0.5)]
    assert events["importance/fisher/model/dense/kernel"] == [(2, 6.0)]  # six values in the histogram
    assert events["importance/fisher/model/dense/bias"] == [(2, 2.0)]
    assert events[curve_tag(row("fisher", 0, 0))] == [(0, 0.5), (250, 0.75)]
    assert events["curves/epoch_2/chance"] == [(0, pytest.approx(2.3)), (250, pytest.approx(2.3))]


def test_no_log_leaves_the_sink_as_it_is():
    def sink(rows):
        return None

    assert logging_sink(sink, None) is sink
