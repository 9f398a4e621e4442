"""Shared fixtures of the Tasks tests: small Fashion-MNIST-shaped IDX files and empty default directories."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from Tasks import fashion_mnist

IDX_UNSIGNED_BYTE = 0x08
NUM_FAKE_TRAIN = 40
NUM_FAKE_VALIDATION = 20


def write_idx(path, array: np.ndarray, type_code: int = IDX_UNSIGNED_BYTE, dtype: str = ">u1") -> None:
    """Write ``array`` as an IDX file (gzip-compressed if ``path`` ends in .gz), independently of Tasks.idx."""
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + np.ascontiguousarray(array, dtype=dtype).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as file:
        file.write(content)


def write_fake_fashion(directory, label_offset: int = 0) -> dict[str, np.ndarray]:
    """Four small Fashion-MNIST IDX .gz files in ``directory``; labels cycle through 0-9 shifted by label_offset."""
    rng = np.random.default_rng(label_offset)
    arrays = {
        "x_train": rng.integers(0, 256, size=(NUM_FAKE_TRAIN, 28, 28), dtype=np.uint8),
        "y_train": ((np.arange(NUM_FAKE_TRAIN) + label_offset) % 10).astype(np.uint8),
        "x_validation": rng.integers(0, 256, size=(NUM_FAKE_VALIDATION, 28, 28), dtype=np.uint8),
        "y_validation": ((np.arange(NUM_FAKE_VALIDATION) + label_offset) % 10).astype(np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for key, file_name in fashion_mnist.FILES.items():
        write_idx(directory / f"{file_name}.gz", arrays[key])
    return arrays


@pytest.fixture
def fake_fashion_dir(tmp_path):
    """A folder holding small but well-formed Fashion-MNIST IDX .gz files; returns (folder, arrays written)."""
    directory = tmp_path / "fashion"
    return directory, write_fake_fashion(directory)


@pytest.fixture
def empty_default_directories(tmp_path, monkeypatch):
    """Point the system folder and the Keras cache at empty folders; returns (system folder, Keras cache folder)."""
    system_directory = tmp_path / "system" / "fashion-mnist"
    keras_home = tmp_path / "keras_home"
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIRECTORY", system_directory)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return system_directory, keras_home / "datasets" / "fashion-mnist"


@pytest.fixture
def no_download(monkeypatch):
    """Make every keras.datasets download used by the tasks fail at once, as without network."""
    import keras

    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OSError("network is unreachable (test)")

    for module in (keras.datasets.fashion_mnist, keras.datasets.mnist, keras.datasets.cifar10):
        monkeypatch.setattr(module, "load_data", refuse)
    return calls


@pytest.fixture
def idx_writer():
    """``write_idx(path, array, type_code=0x08, dtype=">u1")``: writes an IDX file without using Tasks.idx."""
    return write_idx


@pytest.fixture
def fashion_writer():
    """``write_fake_fashion(directory, label_offset=0)``: small Fashion-MNIST IDX .gz files in ``directory``."""
    return write_fake_fashion
