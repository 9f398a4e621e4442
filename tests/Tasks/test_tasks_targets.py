"""make_task checks the model's output width against num_classes and the loss, and the targets against the loss:
binary one-output models, K-output models with class ids or rows of class probabilities."""

import keras
import numpy as np
import pytest

import Tasks

X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
IDS = np.arange(12) % 3
BINARY = np.arange(12) % 2


def _dense(width, activation=None):
    return lambda seed: keras.Sequential([keras.Input((4,)), keras.layers.Dense(width, activation=activation)])


def _task(width, y, loss, num_classes, activation=None):
    return Tasks.make_task("mine", (X, y), (X, y), _dense(width, activation), loss, num_classes)


SPARSE = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
CATEGORICAL = keras.losses.CategoricalCrossentropy(from_logits=True)
BCE = keras.losses.BinaryCrossentropy(from_logits=True)


def test_valid_combinations_are_built_with_their_targets():
    task = _task(3, IDS, SPARSE, 3)
    assert task.num_outputs == 3 and not task.is_binary and task.train[1].dtype == np.int64
    rows = _task(3, np.eye(3)[IDS], CATEGORICAL, 3)
    assert rows.train[1].dtype == np.float32 and rows.train[1].shape == (12, 3)
    binary = _task(1, BINARY.reshape(-1, 1), BCE, 2)
    assert binary.is_binary and binary.train[1].shape == (12,) and binary.train[1].dtype == np.int64
    sigmoid = _task(1, BINARY, keras.losses.BinaryCrossentropy(from_logits=False), 2, activation="sigmoid")
    assert sigmoid.is_binary
    history = binary.model.fit(*binary.train, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_soft_rows_are_kept_as_given():
    soft = np.full((12, 3), 0.25, np.float32)
    soft[np.arange(12), IDS] = 0.5
    task = _task(3, soft, CATEGORICAL, 3)
    assert np.array_equal(task.train[1], soft)


@pytest.mark.parametrize(
    "width, y, loss, num_classes, message",
    [
        (3, BINARY, SPARSE, 2, "outputs 3 values but num_classes is 2: a classification model outputs num_classes "
                               "logits .* or 1 for binary with BinaryCrossentropy"),
        (1, BINARY, SPARSE, 2, "outputs 1 value but num_classes is 2 \\(a single-output binary model needs "
                               "BinaryCrossentropy, not SparseCategoricalCrossentropy\\)"),
        (2, BINARY, BCE, 2, "outputs 2 values with BinaryCrossentropy .* a binary model, which outputs 1 value"),
        (1, IDS, BCE, 3, "num_classes=3: BinaryCrossentropy is for a binary model"),
        (3, IDS, CATEGORICAL, 3, "holds class ids \\(shape \\(12,\\)\\) but CategoricalCrossentropy expects one row "
                                 "of num_classes=3 class probabilities .*to_categorical"),
        (3, np.eye(3)[IDS], SPARSE, 3, "holds rows of shape \\(12, 3\\) but SparseCategoricalCrossentropy expects "
                                       "integer class ids"),
        (1, np.eye(2)[BINARY], BCE, 2, "holds rows .* BinaryCrossentropy expects class ids 0/1"),
        (3, np.eye(4)[IDS], CATEGORICAL, 3, "rows of 4 class probabilities; with num_classes=3"),
        (3, np.eye(3)[IDS] * 2, CATEGORICAL, 3, "each in \\[0, 1\\] summing to 1; row 0 is \\[2.0, 0.0, 0.0\\]"),
        (3, IDS + 0.5, SPARSE, 3, "integer class ids"),
    ],
)
def test_mismatches_say_what_was_found_and_what_is_valid(width, y, loss, num_classes, message):
    with pytest.raises(ValueError, match=message):
        _task(width, y, loss, num_classes)


def test_every_model_the_task_builds_is_checked():
    widths = iter([3, 5])
    task = Tasks.make_task("mine", (X, IDS), (X, IDS), lambda seed: _dense(next(widths))(seed), SPARSE, 3)
    with pytest.raises(ValueError, match="outputs 5 values but num_classes is 3"):
        task.build_model(1)


def test_a_model_with_an_image_output_is_refused():
    def build(seed):
        return keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(3, 1)])

    with pytest.raises(ValueError, match=r"of shape \(4, 4, 3\) per example"):
        Tasks.make_task("mine", (np.zeros((2, 4, 4, 1)), [0, 1]), (np.zeros((2, 4, 4, 1)), [0, 1]), build, SPARSE, 3)


def test_class_names_are_recorded_and_checked():
    task = Tasks.make_task("mine", (X, IDS), (X, IDS), _dense(3), SPARSE, 3, class_names=["a", "b", "c"])
    assert task.class_names == ("a", "b", "c")
    with pytest.raises(ValueError, match="class_names must name each of the num_classes=3"):
        Tasks.make_task("mine", (X, IDS), (X, IDS), _dense(3), SPARSE, 3, class_names=["a", "b"])


def test_with_named_model_keeps_the_binary_output_width():
    binary = _task(1, BINARY, BCE, 2)
    mlp = Tasks.with_named_model(binary, "mlp:8")
    assert mlp.is_binary and mlp.model.output_shape == (None, 1) and mlp.loss is binary.loss
    assert [layer.units for layer in mlp.model.layers if isinstance(layer, keras.layers.Dense)] == [8, 1]
