"""Accuracy by the evaluator for every kind of classification model and target, against hand counts; and the
same accuracy where the runners record it (a thresholding row, a sequential learner's evaluation)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

import Tasks
from Runs.checkpoints import checkpoints, load_checkpoint
from Runs.evaluation import Evaluator, compiled_sums

# One input feature; the model computes z = x (one output) or z = [x, -x, 0.5] (three outputs), so every
# prediction is known by hand.
X = np.array([[-1.0], [-0.5], [-0.25], [0.0], [0.25], [0.5], [1.0], [2.0]], np.float32)
BINARY_Y = np.array([0, 0, 1, 0, 0, 1, 1, 1])
# z > 0 predicts class 1: [0, 0, 0, 0 (z = 0 is a tie, class 0), 1, 1, 1, 1]; correct: 1 1 0 1 0 1 1 1 = 6 of 8
BINARY_ACCURACY = 6 / 8
# three outputs [x, -x, 0.5]: argmax is class 1 for x < -0.5, class 2 for -0.5 <= x < 0.5 (ties go to the lower
# class: x = -0.5 gives [-0.5, 0.5, 0.5] -> 1), class 0 for x > 0.5, and x = 0.5 gives [0.5, -0.5, 0.5] -> 0.
PREDICTED_3 = np.array([1, 1, 2, 2, 2, 0, 0, 0])
IDS_3 = np.array([1, 2, 2, 0, 2, 0, 1, 0])  # correct: 1 0 1 0 1 1 0 1 = 5 of 8
IDS_3_ACCURACY = 5 / 8


def _one_output(probabilities: bool = False) -> keras.Model:
    layer = keras.layers.Dense(1, activation="sigmoid" if probabilities else None)
    model = keras.Sequential([keras.Input((1,)), layer])
    layer.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    return model


def _three_outputs(probabilities: bool = False) -> keras.Model:
    layer = keras.layers.Dense(3, activation="softmax" if probabilities else None)
    model = keras.Sequential([keras.Input((1,)), layer])
    layer.set_weights([np.array([[1.0, -1.0, 0.0]], np.float32), np.array([0.0, 0.0, 0.5], np.float32)])
    return model


def _accuracy(model, loss, y, batch_size=1024) -> float:
    return Evaluator(model, loss, (X, y), batch_size=batch_size)()[1]


def test_the_hand_predictions_are_what_the_models_compute():
    assert np.array_equal(np.argmax(_three_outputs()(X).numpy(), axis=-1), PREDICTED_3)
    assert np.array_equal((_one_output()(X).numpy()[:, 0] > 0).astype(int), [0, 0, 0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("probabilities", [False, True])
def test_one_output_binary_accuracy_thresholds_the_logit_or_the_probability(probabilities):
    loss = keras.losses.BinaryCrossentropy(from_logits=not probabilities)
    assert _accuracy(_one_output(probabilities), loss, BINARY_Y) == BINARY_ACCURACY
    assert _accuracy(_one_output(probabilities), loss, BINARY_Y, batch_size=3) == BINARY_ACCURACY


def test_a_probability_model_is_not_read_as_logits():
    # sigmoid outputs are all > 0: read as logits they would predict class 1 everywhere (accuracy 4/8)
    loss = keras.losses.BinaryCrossentropy(from_logits=False)
    assert _accuracy(_one_output(probabilities=True), loss, BINARY_Y) == BINARY_ACCURACY != np.mean(BINARY_Y)


@pytest.mark.parametrize("probabilities", [False, True])
def test_class_ids_against_the_argmax_of_k_outputs(probabilities):
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities)
    assert _accuracy(_three_outputs(probabilities), loss, IDS_3) == IDS_3_ACCURACY


def test_rows_of_class_probabilities_against_the_argmax_of_the_row():
    one_hot = np.eye(3, dtype=np.float32)[IDS_3]
    soft = np.full((8, 3), 0.2, np.float32)
    soft[np.arange(8), IDS_3] = 0.6
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    assert _accuracy(_three_outputs(), loss, one_hot) == IDS_3_ACCURACY
    assert _accuracy(_three_outputs(), loss, soft) == IDS_3_ACCURACY
    # the loss is the row-weighted cross-entropy, as for one-hot rows it is the sparse loss
    sparse = Evaluator(_three_outputs(), keras.losses.SparseCategoricalCrossentropy(from_logits=True), (X, IDS_3))()
    rows = Evaluator(_three_outputs(), loss, (X, one_hot))()
    assert rows[0] == pytest.approx(sparse[0], rel=1e-6)


def test_a_single_logit_binary_task_reports_its_true_accuracy():
    """A Dense(1) model with BinaryCrossentropy and num_classes=2, through make_task: its accuracy is the share
    of z > 0 predictions that are right, not the share of class 0 (an argmax over one output is always 0)."""
    task = Tasks.make_task("binary", (X, BINARY_Y), (X, BINARY_Y), lambda seed: _one_output(),
                           keras.losses.BinaryCrossentropy(from_logits=True), 2)
    assert task.is_binary and task.num_outputs == 1
    task.model.layers[0].set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    loss, accuracy = Evaluator(task.model, task.loss, task.validation)()
    assert accuracy == BINARY_ACCURACY != np.mean(BINARY_Y == 0)
    assert task.model.evaluate(X, BINARY_Y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(accuracy)
    z = X[:, 0]
    expected_loss = np.mean(np.log1p(np.exp(-z)) * BINARY_Y + np.log1p(np.exp(z)) * (1 - BINARY_Y))
    assert loss == pytest.approx(expected_loss, rel=1e-5)


def test_one_compiled_function_serves_evaluators_of_several_splits():
    model, loss = _three_outputs(), keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    sums = compiled_sums(model, loss)
    first = Evaluator(model, loss, (X[:4], IDS_3[:4]), sums=sums)()
    second = Evaluator(model, loss, (X[4:], IDS_3[4:]), sums=sums)()
    assert (first[1], second[1]) == (2 / 4, 3 / 4)


def test_a_one_output_model_whose_loss_does_not_say_logits_or_probabilities_is_refused():
    with pytest.raises(ValueError, match="from_logits"):
        Evaluator(_one_output(), keras.losses.MeanSquaredError(), (X, BINARY_Y))()


# -- where the runners record accuracy ---------------------------------------------------------------------------

def build_binary_digits(seed: int = 0) -> Tasks.Task:
    """digits 0 against 1 as a binary task: a Dense(1) logit, BinaryCrossentropy, class ids 0/1."""
    whole = Tasks.get_task("digits", labels=[0, 1])

    def build(model_seed):
        return keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])

    return Tasks.make_task("binary_digits", whole.train, whole.validation, build,
                           keras.losses.BinaryCrossentropy(from_logits=True), 2, 16, seed, learning_rate=0.05)


def _hand_accuracy(model, data) -> float:
    x, y = data
    return float(np.mean((model.predict(x, verbose=0)[:, 0] > 0).astype(int) == y))


def test_a_thresholding_run_records_the_binary_accuracy(tmp_path):
    from Experiment import ExperimentConfig, run_experiment

    Tasks.register_task("binary_digits", build_binary_digits)
    try:
        config = ExperimentConfig(task="binary_digits", epochs=1, measures=["magnitude"],
                                  aggregation_levels=["weight"], num_thresholds=2, num_train_loss_examples=100,
                                  results_csv=str(tmp_path / "binary.csv"), progress=False)
        run_experiment(config)
    finally:
        Tasks.unregister_task("binary_digits")
    rows = pd.read_csv(config.results_csv)
    trained = rows[rows.fraction_removed == 0]
    # the trained model, from the run's checkpoint, evaluated by hand
    task = build_binary_digits(0)
    load_checkpoint(checkpoints(config.results_csv, 0)[1], task.model, {})
    expected = _hand_accuracy(task.model, task.validation)
    assert len(trained) == 2 and (trained.val_accuracy == expected).all() and expected > 0.9
    assert json.loads((tmp_path / "binary.json").read_text())["task"] == "binary_digits"


def test_a_sequential_learner_of_a_binary_task_records_its_accuracy_and_a_split_sequence_is_refused():
    from SequentialLearning import SequentialLearner, get_sequence

    Tasks.register_task("binary_digits", build_binary_digits)
    try:
        sequence = get_sequence("permuted", "binary_digits", num_tasks=2)
        with pytest.raises(ValueError, match="single \\(binary\\) output"):
            get_sequence("split", "binary_digits", num_tasks=2)
    finally:
        Tasks.unregister_task("binary_digits")
    learner = SequentialLearner(sequence, "none", 0.0, epochs=1)
    result = learner.run()
    for j in range(2):
        assert result.accuracy[1, j] == pytest.approx(_hand_accuracy(learner.model, sequence[j].validation),
                                                      abs=1e-12)
    assert result.accuracy[0, 0] > 0.9
