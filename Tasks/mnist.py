"""mnist: LeCun, Cortes and Burges' handwritten digits (LeCun et al., 1998, Proc. IEEE 86(11)).

Data: 70000 grayscale 28x28 images of the digits 0-9, pixels scaled to [0, 1], shaped ``(N, 28, 28, 1)``.
Split: the official one, 60000 train and the 10000 test images as validation, the same for every task seed.
Model: ``models.four_conv_cnn`` (as fashion_mnist), Adam(1e-3), batch size 128.
Options: ``labels`` (keep only those digits), ``batch_size``,
``model`` (``models.MODEL_CHOICES``; default ``"cnn"``, the four-conv CNN above), ``augmentation`` (random zoom,
rotation, ... in training only; ``augmentation.py``).

Loaded with ``keras.datasets.mnist.load_data``: from the Keras cache (``~/.keras/datasets/mnist.npz``) or
downloaded; without either a ``DatasetUnavailableError`` says where it looked and how to get the data.
"""

from __future__ import annotations

import functools

import keras
import numpy as np

from Tasks import models
from Tasks.base import Task, classification_loss, make_task, select_labels
from Tasks.downloads import download_with_keras, keras_cache_directory

NAME = "mnist"
NUM_CLASSES = 10
CNN = "four_conv_cnn"
INPUT_SHAPE = (28, 28, 1)
HOW_TO_GET = (
    "allow network access so keras.datasets.mnist.load_data() can download it, or copy mnist.npz into "
    f"{keras_cache_directory()}."
)


def load_data():
    """``((x_train, y_train), (x_validation, y_validation))``: float32 images in [0, 1], int64 labels."""
    looked_in = [str(keras_cache_directory("mnist.npz"))]
    splits = download_with_keras(lambda: keras.datasets.mnist.load_data(), "MNIST", looked_in, HOW_TO_GET)
    return tuple(
        ((np.asarray(x).astype(np.float32) / 255.0)[..., np.newaxis], np.asarray(y).reshape(-1).astype(np.int64))
        for x, y in splits
    )


def build_model(seed: int, model: str = "cnn", augmentation: dict | None = None) -> keras.Model:
    """The model ``model`` (``models.MODEL_CHOICES``); ``"cnn"`` is ``models.four_conv_cnn``."""
    return models.build_named_model(model, INPUT_SHAPE, NUM_CLASSES, cnn=CNN, name=NAME, augmentation=augmentation,
                                    seed=seed)


def build_task(seed: int = 0, *, labels: list[int] | None = None, batch_size: int = 128, model: str = "cnn",
               augmentation: dict | None = None) -> Task:
    models.check_model_spec(model, INPUT_SHAPE, cnn=CNN, augmentation=augmentation)  # before loading the data
    train, validation = load_data()
    if labels is not None:
        train, validation = select_labels(train, validation, labels)
    build = functools.partial(build_model, model=model, augmentation=augmentation)
    return make_task(NAME, train, validation, build, classification_loss(), NUM_CLASSES, batch_size, seed,
                     augmentation=augmentation)
