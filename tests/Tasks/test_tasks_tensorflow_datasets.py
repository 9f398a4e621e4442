"""``tfds:NAME`` tasks, offline: ``tfds.testing.mock_data`` generates random examples from the data set's features.

The mock uses ``MockPolicy.USE_CODE`` (features from the data set's code), so no metadata files and no download
are needed; with ``AUTO`` it would look for metadata files first and fall back to the code.
"""

import sys

import keras
import numpy as np
import pytest

import Tasks

SKIP_REASON = "tensorflow-datasets is not installed (optional: pip install -r requirements-tfds.txt)"


@pytest.fixture
def tfds():
    return pytest.importorskip("tensorflow_datasets", reason=SKIP_REASON)


@pytest.fixture
def mock_data(tfds):
    """``mock_data(num_examples)``: a context in which ``tfds.load`` returns that many random examples per split."""
    return lambda num_examples: tfds.testing.mock_data(
        num_examples=num_examples, policy=tfds.testing.MockPolicy.USE_CODE
    )


def _check_arrays(task, num_train, num_validation, image_shape, num_classes):
    (x_train, y_train), (x_validation, y_validation) = task.train, task.validation
    assert x_train.shape == (num_train, *image_shape) and x_validation.shape == (num_validation, *image_shape)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0 and x_train.max() > x_train.min()
    assert set(np.unique(y_train)) <= set(range(num_classes)) and task.num_classes == num_classes


def test_mock_beans_resized_trains_one_epoch(mock_data):
    with mock_data(10):
        task = Tasks.get_task("tfds:beans", seed=0, image_size=(32, 32), num_validation_examples=4, batch_size=4)
    assert task.name == "tfds:beans" and task.batch_size == 4
    _check_arrays(task, 10, 4, (32, 32, 3), 3)
    assert isinstance(task.model.layers[0], keras.layers.Conv2D)  # the small CNN, 32 px needs no downsampling
    history = task.model.fit(*task.train, batch_size=task.batch_size, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"} and np.isfinite(history.history["loss"][0])


def test_mock_beans_at_full_size_averages_the_images_down_for_the_cnn(mock_data):
    with mock_data(2):
        task = Tasks.get_task("tfds:beans", seed=0, num_train_examples=2, num_validation_examples=1)
    _check_arrays(task, 2, 1, (500, 500, 3), 3)
    pooling = task.model.layers[0]
    assert isinstance(pooling, keras.layers.AveragePooling2D) and tuple(pooling.pool_size) == (8, 8)
    assert task.model.output_shape == (None, 3)


def test_mock_mnist_trains_one_epoch_and_is_deterministic(mock_data):
    with mock_data(12):
        task = Tasks.get_task("tfds:mnist", seed=2, num_train_examples=8, batch_size=4)
        again = Tasks.get_task("tfds:mnist", seed=2, num_train_examples=8, batch_size=4)
    _check_arrays(task, 8, 12, (28, 28, 1), 10)
    assert np.array_equal(task.train[0], again.train[0]) and np.array_equal(task.validation[1], again.validation[1])
    assert all(np.array_equal(a, b) for a, b in zip(task.model.get_weights(), again.model.get_weights()))
    history = task.model.fit(*task.train, batch_size=task.batch_size, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_mock_mnist_labels_and_model_options(mock_data):
    with mock_data(30):
        task = Tasks.get_task("tfds:mnist", seed=0, labels=[1, 2, 3], model="mlp:16", validation_split="train")
    assert set(np.unique(task.train[1])) <= {1, 2, 3} and set(np.unique(task.validation[1])) <= {1, 2, 3}
    assert 0 < len(task.train[1]) < 30
    assert [layer.units for layer in task.model.layers if isinstance(layer, keras.layers.Dense)] == [16, 10]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"image_size": (0, 5)}, "image_size"),
        ({"image_size": 32}, "image_size"),
        ({"num_train_examples": 0}, "num_train_examples"),
        ({"labels": [7]}, r"0 \(angular_leaf_spot\)"),
        ({"model": "resnet"}, "Unknown model"),
        ({"colour": "red"}, "valid options"),
    ],
)
def test_bad_options_say_what_is_valid(mock_data, options, message):
    with mock_data(2), pytest.raises(ValueError, match=message):
        Tasks.get_task("tfds:beans", **options)


def test_task_options_and_names(tfds):
    assert Tasks.task_options("tfds:mnist") == [
        "train_split", "validation_split", "image_size", "num_train_examples", "num_validation_examples", "labels",
        "batch_size", "model", "data_dir", "download", "augmentation",
    ]
    assert Tasks.is_task_name("tfds:beans")
    with pytest.raises(ValueError, match="names no data set"):
        Tasks.get_task("tfds:")


def test_data_that_cannot_be_loaded_raises_dataset_unavailable(tfds, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(tfds, "load", offline)
    with pytest.raises(Tasks.DatasetUnavailableError, match="tfds build beans") as error:
        Tasks.get_task("tfds:beans", data_dir="/nowhere")
    assert "/nowhere" in str(error.value) and "network is unreachable" in str(error.value)


def test_without_tensorflow_datasets_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # makes `import tensorflow_datasets` fail
    with pytest.raises(ImportError, match="pip install -r requirements-tfds.txt"):
        Tasks.get_task("tfds:mnist")
    assert not Tasks.is_task_name("tfds:mnist")
    assert Tasks.is_task_name("digits")
