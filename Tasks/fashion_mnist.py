"""fashion_mnist: Zalando's Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017, arXiv:1708.07747).

Data: 70000 grayscale 28x28 images of 10 kinds of clothing, pixels scaled to [0, 1], shaped ``(N, 28, 28, 1)``.
Split: the official one, 60000 train and the 10000 test images as validation, the same for every task seed.
Model: ``models.four_conv_cnn`` (conv32, conv32, pool, conv64, conv64, pool with BN, dense128, dense10 logits, dropout),
Adam(1e-3), batch size 128.
Options: ``labels`` (keep only those classes), ``batch_size``, ``data_dir``,
``model`` (``models.MODEL_CHOICES``; default ``"cnn"``, the four-conv CNN above), ``augmentation`` (random zoom,
rotation, ... in training only; ``augmentation.py``).

The four IDX files (``FILES``, gzip-compressed or not) are looked for, in order, in ``data_dir``, in
``SYSTEM_DIRECTORY`` (Debian/Ubuntu package ``dataset-fashion-mnist``) and in the Keras cache
(``~/.keras/datasets/fashion-mnist``); only then are they downloaded with ``keras.datasets.fashion_mnist``.
If all of these fail a ``DatasetUnavailableError`` says where it looked and how to get the data.
"""

from __future__ import annotations

import functools
import os
import warnings
from pathlib import Path

import keras
import numpy as np

from Tasks import models
from Tasks.base import Task, classification_loss, make_task, select_labels
from Tasks.downloads import download_with_keras, keras_cache_directory
from Tasks.idx import read_idx

NAME = "fashion_mnist"
NUM_CLASSES = 10
CNN = "four_conv_cnn"
INPUT_SHAPE = (28, 28, 1)
SYSTEM_DIRECTORY = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_validation": "t10k-images-idx3-ubyte",
    "y_validation": "t10k-labels-idx1-ubyte",
}
HOW_TO_GET = (
    "install the Debian/Ubuntu package (apt-get install dataset-fashion-mnist), pass data_dir=<a folder holding "
    f"{', '.join(name + '.gz' for name in FILES.values())}>, or allow network access so Keras can download it."
)


def default_directories() -> list[Path]:
    """Where the IDX files are looked for when ``data_dir`` does not have them, in order."""
    return [SYSTEM_DIRECTORY, keras_cache_directory("fashion-mnist")]


def find_files(directory: str | os.PathLike) -> dict[str, Path] | None:
    """The paths of the four IDX files in ``directory`` (``.gz`` preferred), or None if any is missing."""
    directory = Path(directory).expanduser()
    found = {}
    for key, file_name in FILES.items():
        candidates = [directory / f"{file_name}.gz", directory / file_name]
        existing = [path for path in candidates if path.is_file()]
        if not existing:
            return None
        found[key] = existing[0]
    return found


def read_directory(files: dict[str, Path]) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    arrays = {key: read_idx(path) for key, path in files.items()}
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_validation"], arrays["y_validation"])


def load_raw(data_dir: str | os.PathLike | None = None):
    """``((x_train, y_train), (x_validation, y_validation))`` as stored: uint8 images and labels."""
    directories = default_directories()
    if data_dir is not None:
        if find_files(data_dir) is None:
            warnings.warn(
                f"data_dir={os.fspath(data_dir)!r} does not hold the Fashion-MNIST files "
                f"{list(FILES.values())}; looking in {[str(d) for d in directories]} instead.",
                stacklevel=3,
            )
        directories = [Path(data_dir)] + directories
    for directory in directories:
        files = find_files(directory)
        if files is not None:
            return read_directory(files)
    looked_in = [f"{directory} (no {', '.join(FILES.values())} [.gz])" for directory in directories]
    return download_with_keras(
        lambda: keras.datasets.fashion_mnist.load_data(), "Fashion-MNIST", looked_in, HOW_TO_GET
    )


def load_data(data_dir: str | os.PathLike | None = None):
    """``((x_train, y_train), (x_validation, y_validation))``: float32 images in [0, 1], int64 labels."""
    splits = load_raw(data_dir)
    return tuple(_prepare(x, y) for x, y in splits)


def _prepare(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    if x.shape[1:] != INPUT_SHAPE[:2]:
        raise ValueError(f"Fashion-MNIST images must be 28x28; got shape {x.shape}.")
    return (x.astype(np.float32) / 255.0)[..., np.newaxis], np.asarray(y).reshape(-1).astype(np.int64)


def build_model(seed: int, model: str = "cnn", augmentation: dict | None = None) -> keras.Model:
    """The model ``model`` (``models.MODEL_CHOICES``); ``"cnn"`` is ``models.four_conv_cnn``."""
    return models.build_named_model(model, INPUT_SHAPE, NUM_CLASSES, cnn=CNN, name=NAME, augmentation=augmentation,
                                    seed=seed)


def build_task(
    seed: int = 0,
    *,
    labels: list[int] | None = None,
    batch_size: int = 128,
    data_dir: str | os.PathLike | None = None,
    model: str = "cnn",
    augmentation: dict | None = None,
) -> Task:
    models.check_model_spec(model, INPUT_SHAPE, cnn=CNN, augmentation=augmentation)  # before loading the data
    train, validation = load_data(data_dir)
    if labels is not None:
        train, validation = select_labels(train, validation, labels)
    build = functools.partial(build_model, model=model, augmentation=augmentation)
    return make_task(NAME, train, validation, build, classification_loss(), NUM_CLASSES, batch_size, seed,
                     augmentation=augmentation)
