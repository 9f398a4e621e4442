"""Training augmentation: applied by fit only, invisible to evaluation and to the importance measures, seeded, part
of the recorded configuration, and resumed exactly."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

import Tasks
import WeightImportance
from Runs import state
from Runs.evaluation import Evaluator
from Runs.training import fit_epoch

AUGMENTATION = {"zoom": 0.2, "rotation": 0.1}


@pytest.fixture(scope="module")
def tasks():
    """digits with and without augmentation, the same seed."""
    return Tasks.get_task("digits", augmentation=AUGMENTATION), Tasks.get_task("digits")


def test_the_layers_sit_after_the_input_in_a_fixed_order_and_hold_no_weights(tasks):
    augmented, plain = tasks
    first = augmented.model.layers[:2]
    assert [type(layer) for layer in first] == [keras.layers.RandomZoom, keras.layers.RandomRotation]
    reordered = Tasks.get_task("digits", augmentation={"rotation": 0.1, "zoom": 0.2})
    assert [type(layer) for layer in reordered.model.layers[:2]] == [type(layer) for layer in first]
    assert [w.shape for w in augmented.model.trainable_weights] == [w.shape for w in plain.model.trainable_weights]
    assert len(augmented.model.weights) == len(plain.model.weights)
    assert augmented.augmentation == AUGMENTATION and plain.augmentation is None


def test_augmentation_acts_in_training_only_and_evaluation_equals_the_model_without_it(tasks):
    augmented, plain = tasks
    x, y = augmented.validation
    assert not np.allclose(augmented.model(x[:8], training=True), augmented.model(x[:8], training=False))
    plain.model.set_weights(augmented.model.get_weights())  # after: a call in training mode moves BN's statistics
    assert np.array_equal(augmented.model(x, training=False), plain.model(x, training=False))
    assert Evaluator(augmented.model, augmented.loss, (x, y))() == Evaluator(plain.model, plain.loss, (x, y))()


@pytest.mark.parametrize("measure", ["fisher", "gradient_magnitude"])
def test_importances_of_an_augmented_model_are_those_of_the_model_without_it(tasks, measure):
    """Per-example gradients (tf.vectorized_map) run through the augmentation layers in inference mode."""
    augmented, plain = tasks
    plain.model.set_weights(augmented.model.get_weights())
    data = tuple(a[:64] for a in augmented.train)
    with_layers = WeightImportance.get_measure(measure).compute(augmented.model, data)
    without = WeightImportance.get_measure(measure).compute(plain.model, data)
    assert len(with_layers) == len(augmented.model.trainable_weights)
    for a, b in zip(with_layers, without):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


def _trained(augmentation, seed=0):
    task = Tasks.get_task("digits", seed=seed, augmentation=augmentation)
    fit_epoch(task.model, *task.train, batch_size=task.batch_size, order_key=[seed, 1])
    return task.model.get_weights()


def test_the_same_seed_trains_the_same_model_and_augmentation_changes_it():
    first, again, plain = _trained(AUGMENTATION), _trained(AUGMENTATION), _trained(None)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.allclose(a, b) for a, b in zip(first, plain))


def test_the_seed_generators_are_part_of_the_captured_state(tasks):
    augmented, _ = tasks
    arrays = state.capture(augmented.model, {})
    seeds = [v for v in augmented.model.variables if "seed_generator" in v.path]
    assert len(seeds) == 3  # zoom, rotation, dropout
    assert sum(1 for key in arrays if key.startswith("model/")) == len(augmented.model.variables)


@pytest.mark.parametrize("value, message", [
    ({"blur": 1}, "Unknown augmentation\\(s\\) \\['blur'\\]; valid: \\['flip', 'zoom', 'rotation'"),
    ({"zoom": 2.0}, "not valid for keras.layers.RandomZoom"),
    ({"zoom": {"seed": 3, "height_factor": 0.1}}, "sets \\['seed'\\]"),
    ({"flip": "diagonal"}, "flip' mode must be one of"),
    ([0.1], "must be None or a dict"),
    ({"zoom": {"height_factor": np.float32(0.1)}}, "plain JSON value"),
])
def test_bad_augmentation_says_what_is_valid(value, message):
    with pytest.raises(ValueError, match=message):
        Tasks.get_task("digits", augmentation=value)


def test_non_image_tasks_have_no_augmentation_and_augmentation_needs_images():
    assert "augmentation" not in Tasks.task_options("iris")
    with pytest.raises(ValueError, match="transforms images"):
        Tasks.build_named_model("mlp", (4,), 3, augmentation={"zoom": 0.1})


def test_a_sequence_learnt_with_another_model_keeps_the_augmentation():
    from SequentialLearning import get_sequence, with_model

    sequence = with_model(get_sequence("split", "digits", num_tasks=2, augmentation=AUGMENTATION), "mlp:16")
    model = sequence.build_model(0)
    assert isinstance(model.layers[0], keras.layers.RandomZoom) and sequence.task.augmentation == AUGMENTATION
    x = sequence[0].validation[0][:8]
    assert not np.allclose(model(x, training=True), model(x, training=False))


# -- through the thresholding runner -----------------------------------------------------------------------------

class Killed(Exception):
    pass


def _config(path):
    from Experiment import ExperimentConfig

    return ExperimentConfig(task="digits", task_options={"augmentation": AUGMENTATION}, epochs=2,
                            measures=["magnitude", "sign_flips"], aggregation_levels=["weight"], num_thresholds=4,
                            num_train_loss_examples=100, num_validation_examples=200, num_importance_examples=100,
                            results_csv=str(path), progress=False)


def test_a_run_with_augmentation_records_it_and_resumes_to_the_same_rows(tmp_path, monkeypatch):
    """Killed in the first epoch's grid, the run resumes from the epoch-1 checkpoint and trains epoch 2 with the
    augmentation's seed generators where they were: every row equals the uninterrupted run's."""
    from Experiment import run_experiment
    from Runs.results import ResultsWriter

    killed = _config(tmp_path / "killed.csv")
    original = ResultsWriter.append
    calls = {"rows": 0}

    def dying_append(self, rows):
        if calls["rows"] >= 6:
            raise Killed()
        calls["rows"] += len(rows)
        original(self, rows)

    monkeypatch.setattr(ResultsWriter, "append", dying_append)
    with pytest.raises(Killed):
        run_experiment(killed)
    monkeypatch.setattr(ResultsWriter, "append", original)
    assert set(pd.read_csv(killed.results_csv).epoch) == {1}
    run_experiment(killed)
    whole = _config(tmp_path / "whole.csv")
    run_experiment(whole)
    keys = ["trial", "epoch", "measure", "aggregation_level", "order", "threshold"]
    resumed = pd.read_csv(killed.results_csv).sort_values(keys).reset_index(drop=True)
    uninterrupted = pd.read_csv(whole.results_csv).sort_values(keys).reset_index(drop=True)
    assert len(resumed) == len(uninterrupted) and set(resumed.epoch) == {1, 2}
    for column in ["fraction_removed", "val_loss", "loss", "val_accuracy"]:
        pd.testing.assert_series_equal(resumed[column], uninterrupted[column], rtol=1e-5, atol=1e-6)
    recorded = json.loads((tmp_path / "whole.json").read_text())
    assert recorded["task_options"] == {"augmentation": AUGMENTATION}
