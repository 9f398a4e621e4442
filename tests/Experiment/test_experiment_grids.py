"""Threshold spacings (linear, geometric, adaptive) and the choice of thresholded parameters, through the runner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import Tasks
from Experiment import run_experiment
from Experiment import thresholds as grids
from Runs.results import ResultsWriter
from Schema import THRESHOLDING_KEY_COLUMNS

CURVE = ["trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order"]


def test_geometric_fractions_are_dense_near_zero():
    fractions = grids.geometric(6)
    assert fractions[0] == 0 and fractions[1] == grids.GEOMETRIC_SMALLEST and fractions[-1] == 1
    ratios = np.diff(np.log(fractions[1:]))
    np.testing.assert_allclose(ratios, ratios[0])


def test_adaptive_choice_splits_where_the_loss_changes_and_stops_at_the_budget():
    # Loss jumps between 0.25 and 0.5 only: every new fraction goes into that interval, halving it.
    def loss(f):
        return 0.5 if f <= 0.3 else 2.5

    points = {f: (f, loss(f)) for f in grids.ADAPTIVE_START}
    picked = []
    while (f := grids.next_adaptive(points, budget=8)) is not None:
        picked.append(f)
        points[f] = (f, loss(f))
    assert picked == [0.375, 0.3125, 0.28125]
    assert len(points) == 8


def test_adaptive_curve_is_flat_then_nothing_more_is_measured():
    points = {f: (f, 1.0) for f in grids.ADAPTIVE_START}
    assert grids.next_adaptive(points, budget=16) is None


def _killed_after(config, monkeypatch, num_appends):
    original = ResultsWriter.append
    calls = {"count": 0}

    def dying_append(self, rows):
        if calls["count"] >= num_appends:
            raise KeyboardInterrupt()
        calls["count"] += 1
        original(self, rows)

    monkeypatch.setattr(ResultsWriter, "append", dying_append)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config)
    monkeypatch.setattr(ResultsWriter, "append", original)


def test_adaptive_run_resumes_to_the_rows_of_an_uninterrupted_run(make_config, tmp_path, monkeypatch):
    changes = dict(epochs=1, measures=["magnitude"], aggregation_levels=["weight"], orders=["least", "most"],
                   threshold_spacing="adaptive", num_thresholds=9)
    whole = pd.read_csv(run_experiment(make_config(tmp_path / "whole.csv", **changes)))
    for _, curve in whole.groupby(CURVE):
        assert set(grids.ADAPTIVE_START) <= set(curve.threshold) and len(curve) <= 9
    assert whole.groupby(CURVE).size().max() == 9  # the budget is spent somewhere

    config = make_config(tmp_path / "killed.csv", **changes)
    _killed_after(config, monkeypatch, num_appends=2)  # two of four curves recorded
    assert 0 < len(pd.read_csv(config.results_csv)) < len(whole)
    resumed = pd.read_csv(run_experiment(config))
    keys = list(THRESHOLDING_KEY_COLUMNS)
    merged = whole.merge(resumed, on=keys, suffixes=("", "_resumed"), validate="one_to_one")
    assert len(merged) == len(whole) == len(resumed)
    np.testing.assert_allclose(merged.val_loss_resumed, merged.val_loss, rtol=0, atol=1e-12)
    assert len(pd.read_csv(run_experiment(config))) == len(whole)  # a finished run adds nothing


def test_kernels_never_touch_biases_or_normalization(make_config, tmp_path):
    config = make_config(tmp_path / "kernels.csv", epochs=1, measures=["magnitude"], aggregation_levels=["weight"],
                         parameters="kernels", thresholds=[0, 0.5, 1])
    results = pd.read_csv(run_experiment(config))
    assert set(results.parameters) == {"kernels"}
    # Removing every kernel gives the chance level of "kernels", a model whose biases and BN are intact.
    full = results[results.threshold == 1]
    np.testing.assert_allclose(full.val_loss, full.chance_val_loss, rtol=1e-12)
    np.testing.assert_allclose(results.fraction_removed, results.threshold, atol=1e-3)
    everything = pd.read_csv(run_experiment(make_config(tmp_path / "all.csv", epochs=1, measures=["magnitude"],
                                                        aggregation_levels=["weight"], thresholds=[0, 0.5, 1])))
    assert not np.isclose(everything.chance_val_loss.iloc[0], results.chance_val_loss.iloc[0])
    task = Tasks.get_task("digits")
    assert len(task.model.trainable_weights) > sum("kernel" in w.path for w in task.model.trainable_weights)


def test_tensor_scope_and_geometric_spacing_run(make_config, tmp_path):
    config = make_config(tmp_path / "tensor.csv", epochs=1, measures=["magnitude"], scopes=["tensor"],
                         threshold_spacing="geometric", num_thresholds=5)
    results = pd.read_csv(run_experiment(config))
    assert set(results.scope) == {"tensor"}
    np.testing.assert_allclose(sorted(set(results.threshold)), grids.geometric(5))


@pytest.mark.parametrize("changes, message", [
    (dict(threshold_spacing="log"), "Unknown threshold_spacing"),
    (dict(threshold_spacing="adaptive", num_thresholds=4), "at least 5"),
    (dict(threshold_spacing="adaptive", thresholds=[0, 1]), "must stay 'linear'"),
    (dict(parameters="biases"), "Unknown parameters"),
])
def test_bad_grid_choices_are_refused(make_config, tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path / "bad.csv", **changes)


def test_saved_importances_load_back_equal_to_what_the_measure_computed(make_config, tmp_path):
    import WeightImportance
    from Experiment import build_measures
    from Runs import paths
    from Runs.checkpoints import load_checkpoint

    config = make_config(tmp_path / "saved.csv", epochs=1, measures=["magnitude", "fisher"],
                         aggregation_levels=["weight"], thresholds=[0, 1], save_importances=True)
    run_experiment(config)
    task = Tasks.get_task("digits", seed=0)
    measures = build_measures(config, 0)
    load_checkpoint(paths.checkpoint_file(config.results_csv, 0, 1), task.model, measures)
    data = tuple(a[: config.num_importance_examples] for a in task.train)
    for name in ("magnitude", "fisher", "random"):
        file = paths.importances_file(config.results_csv, 0, 1, name)
        assert WeightImportance.read_importances_info(file)["measure"] == name
        for saved, computed in zip(WeightImportance.load_importances(file, task.model),
                                   measures[name].compute(task.model, data)):
            np.testing.assert_array_equal(saved, computed)
