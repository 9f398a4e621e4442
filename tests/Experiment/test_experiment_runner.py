"""Known answers of the thresholding experiment on digits, and the results file's layout."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

import Tasks
from Experiment import COLUMNS, ExperimentConfig, run_experiment
from Runs import paths
from Runs.checkpoints import checkpoints, load_checkpoint


@pytest.mark.smoke
def test_one_row_per_evaluation_in_tidy_columns(digits_run):
    config, df = digits_run
    assert tuple(df.columns) == COLUMNS
    # random is always run; weight level has the single method "none".
    assert set(df.measure) == {"random", "magnitude", "fisher", "sign_flips", "shuffled:magnitude"}
    assert set(zip(df.aggregation_level, df.aggregation_method)) == {("weight", "none"), ("unit", "mean")}
    expected = 2 * 5 * 2 * 2 * 6  # epochs x measures x aggregations x orders x thresholds
    assert len(df) == expected
    keys = ["trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "threshold"]
    assert not df.duplicated(keys).any()
    assert paths.config_json(config.results_csv).exists()
    recorded = ExperimentConfig.load(paths.config_json(config.results_csv))
    assert recorded.num_threads >= 1  # None is recorded as the count used
    assert recorded == dataclasses.replace(config, num_threads=recorded.num_threads)


@pytest.mark.smoke
def test_threshold_zero_is_the_trained_model_for_every_measure(digits_run):
    config, df = digits_run
    for epoch, rows in df[df.threshold == 0].groupby("epoch"):
        assert (rows.fraction_removed == 0).all()
        assert rows.val_loss.nunique() == 1 and rows.loss.nunique() == 1
    # ... and it is the loss Keras reports for the checkpointed trained model (weights restored after measuring).
    task = Tasks.get_task("digits", seed=0)
    epoch, file = max(checkpoints(config.results_csv, 0).items())
    load_checkpoint(file, task.model, {})
    x, y = (a[:200] for a in task.validation)
    keras_loss, keras_accuracy = task.model.evaluate(x, y, verbose=0, batch_size=64)
    last = df[(df.threshold == 0) & (df.epoch == epoch)].iloc[0]
    assert last.val_loss == pytest.approx(keras_loss, rel=1e-4)
    assert last.val_accuracy == pytest.approx(keras_accuracy)
    assert last.val_accuracy > 0.85


def test_full_thresholding_is_chance_level(digits_run):
    _, df = digits_run
    full = df[df.threshold == 1.0]
    assert (full.fraction_removed == 1.0).all()
    np.testing.assert_allclose(full.val_loss, math.log(10), atol=0.02)
    np.testing.assert_allclose(full.val_loss, full.chance_val_loss)


@pytest.mark.smoke
def test_fraction_removed_is_exact_at_weight_level(digits_run):
    _, df = digits_run
    weight = df[(df.aggregation_level == "weight") & (df.scope == "layer")]
    # Per layer round(f * N) of each layer's weights: close to f, exactly 0 and 1 at the ends.
    np.testing.assert_allclose(weight.fraction_removed, weight.threshold, atol=0.01)


def _area(rows):
    rows = rows.sort_values("fraction_removed")
    return np.trapezoid(rows.val_loss, rows.fraction_removed)


@pytest.mark.smoke
def test_magnitude_beats_random_after_training(digits_run):
    _, df = digits_run
    last = df[(df.epoch == 2) & (df.aggregation_level == "weight") & (df.order == "least")]
    assert _area(last[last.measure == "magnitude"]) < 0.8 * _area(last[last.measure == "random"])
    most = df[(df.epoch == 2) & (df.aggregation_level == "weight") & (df.order == "most")]
    # From the other end, removing the largest weights first hurts more than removing random ones.
    assert _area(most[most.measure == "magnitude"]) > _area(most[most.measure == "random"])


def test_a_different_configuration_is_refused_with_the_difference(make_config, digits_run):
    config, _ = digits_run
    changed = make_config(config.results_csv, epochs=3, orders=["least", "most"],
                           measures=["magnitude", "fisher", "sign_flips", "shuffled:magnitude"])
    with pytest.raises(ValueError, match=r"different configuration[\s\S]*epochs: given 3, recorded 2"):
        run_experiment(changed)


def test_a_complete_run_is_not_repeated(digits_run):
    config, df = digits_run
    run_experiment(config)
    assert len(pd.read_csv(config.results_csv)) == len(df)


@pytest.mark.parametrize(
    "changes, words",
    [
        (dict(task="digitz"), "Unknown task 'digitz'"),
        (dict(measures=["fischer"]), "Unknown measure 'fischer'"),
        (dict(aggregation_levels=["neuron"]), r"Unknown aggregation_levels \['neuron'\]; valid: \['weight'"),
        (dict(scopes=["global"]), r"Unknown scopes \['global'\]"),
        (dict(orders=["largest"]), r"Unknown orders \['largest'\]"),
        (dict(aggregation_methods=["median"]), r"Unknown aggregation_methods \['median'\]"),
        (dict(thresholds=[0.5, 1.5]), r"thresholds must be fractions in \[0, 1\]; got 1.5"),
        (dict(replacement="uniform"), "Unknown replacement 'uniform'"),
        (dict(epochs=0), "epochs must be an integer >= 1"),
        (dict(measure_options={"fisher": {"label": "sampled"}}), r"Unknown option\(s\) \['label'\]"),
        (dict(results_csv="out.txt"), "must be a path ending in .csv"),
    ],
)
def test_bad_configurations_say_what_is_wrong(make_config, tmp_path, changes, words):
    with pytest.raises(ValueError, match=words):
        make_config(changes.pop("results_csv", tmp_path / "r.csv"), **changes)


def test_thresholds_and_epochs():
    config = ExperimentConfig(num_thresholds=5, epochs=5, measure_every=2, progress=False)
    assert config.threshold_values() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert config.measured_epochs() == [2, 4, 5]
    assert ExperimentConfig(thresholds=[1, 0.1, 0], progress=False).threshold_values() == [0.0, 0.1, 1.0]
    assert ExperimentConfig(measures=["fisher"]).measure_names() == ["random", "fisher"]


def test_regression_task_records_nan_accuracy(make_config, tmp_path):
    config = make_config(tmp_path / "f.csv", task="function_approximation", epochs=1, measures=["magnitude"],
                          aggregation_levels=["weight"], num_thresholds=3)
    run_experiment(config)
    df = pd.read_csv(config.results_csv)
    assert df.val_accuracy.isna().all() and df.val_loss.notna().all()
    assert len(df) == 2 * 3
