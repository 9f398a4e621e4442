import socket
import time

import keras
import numpy as np
import pytest

import Tasks
from Tasks import downloads, fashion_mnist


def test_fashion_mnist_from_data_dir(fake_fashion_dir, empty_default_directories, no_download):
    directory, arrays = fake_fashion_dir
    task = Tasks.get_task("fashion_mnist", data_dir=directory)
    (x_train, y_train), (x_validation, y_validation) = task.train, task.validation
    assert x_train.shape == (40, 28, 28, 1) and x_validation.shape == (20, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(x_train[..., 0], arrays["x_train"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y_validation, arrays["y_validation"])
    assert task.num_classes == 10 and task.batch_size == 128
    assert task.model.output_shape == (None, 10)
    assert no_download == []


def test_fashion_mnist_labels_option(fake_fashion_dir, empty_default_directories):
    directory, arrays = fake_fashion_dir
    task = Tasks.get_task("fashion_mnist", data_dir=str(directory), labels=[0, 9])
    assert set(task.train[1]) == {0, 9} and len(task.train[1]) == np.isin(arrays["y_train"], [0, 9]).sum()


def _first_train_label(**options):
    return fashion_mnist.load_data(**options)[0][1][0]


def test_fashion_mnist_search_order(tmp_path, empty_default_directories, no_download, fashion_writer):
    system_directory, keras_cache = empty_default_directories
    given = tmp_path / "given"
    write_fake_fashion = fashion_writer
    write_fake_fashion(keras_cache, label_offset=3)
    assert _first_train_label() == 3
    write_fake_fashion(system_directory, label_offset=2)
    assert _first_train_label() == 2
    write_fake_fashion(given, label_offset=1)
    assert _first_train_label(data_dir=given) == 1
    with pytest.warns(UserWarning, match="does not hold"):
        assert _first_train_label(data_dir=tmp_path / "missing") == 2
    assert no_download == []


def test_fashion_mnist_downloads_with_a_timeout_when_nothing_is_on_disk(empty_default_directories, monkeypatch):
    timeouts = []

    def fake_load_data():
        timeouts.append(socket.getdefaulttimeout())
        images = np.zeros((5, 28, 28), dtype=np.uint8)
        return (images, np.arange(5, dtype=np.uint8)), (images[:2], np.array([7, 8], dtype=np.uint8))

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_load_data)
    before = socket.getdefaulttimeout()
    (x_train, y_train), (_, y_validation) = fashion_mnist.load_data()
    assert timeouts == [downloads.DOWNLOAD_TIMEOUT_SECONDS]
    assert socket.getdefaulttimeout() == before
    assert x_train.shape == (5, 28, 28, 1) and y_validation.tolist() == [7, 8]


def test_fashion_mnist_unavailable_raises_a_clear_error_fast(tmp_path, empty_default_directories, no_download):
    system_directory, keras_cache = empty_default_directories
    before = socket.getdefaulttimeout()
    start = time.perf_counter()
    with pytest.raises(Tasks.DatasetUnavailableError) as error, pytest.warns(UserWarning, match="nowhere"):
        Tasks.get_task("fashion_mnist", data_dir=tmp_path / "nowhere")
    assert time.perf_counter() - start < 5
    message = str(error.value)
    for place in (tmp_path / "nowhere", system_directory, keras_cache):
        assert str(place) in message
    assert "apt-get install dataset-fashion-mnist" in message and "network" in message
    assert "network is unreachable (test)" in message
    assert len(no_download) == 1
    assert socket.getdefaulttimeout() == before
    assert isinstance(error.value, RuntimeError)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_keras_datasets_unavailable_raise_a_clear_error(name, no_download, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(Tasks.DatasetUnavailableError, match="network") as error:
        Tasks.get_task(name)
    assert str(tmp_path) in str(error.value)


@pytest.mark.parametrize("name, image_shape", [("mnist", (28, 28)), ("cifar10", (32, 32, 3))])
def test_keras_datasets_are_scaled_and_flattened(name, image_shape, monkeypatch):
    def fake_load_data():
        images = np.full((6, *image_shape), 255, dtype=np.uint8)
        labels = (np.arange(6) % 3).astype(np.uint8).reshape(-1, 1)
        return (images, labels), (images[:3], labels[:3])

    monkeypatch.setattr(getattr(keras.datasets, name), "load_data", fake_load_data)
    task = Tasks.get_task(name, labels=[1, 2])
    x_train, y_train = task.train
    assert x_train.dtype == np.float32 and x_train.max() == 1.0 and x_train.ndim == 4
    assert y_train.dtype == np.int64 and y_train.shape == (4,) and set(y_train) == {1, 2}
    assert task.model.output_shape == (None, 10)


@pytest.mark.skipif(
    fashion_mnist.find_files(fashion_mnist.SYSTEM_DIRECTORY) is None,
    reason=f"Fashion-MNIST is not in {fashion_mnist.SYSTEM_DIRECTORY} (apt-get install dataset-fashion-mnist)",
)
def test_real_fashion_mnist_from_the_system_directory(no_download):
    (x_train, y_train), (x_validation, y_validation) = fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28, 1) and x_validation.shape == (10000, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_train).tolist() == [6000] * 10 and np.bincount(y_validation).tolist() == [1000] * 10
