"""iris: Fisher's iris flowers (scikit-learn's copy of the UCI data set).

Data: ``sklearn.datasets.load_iris``, 150 flowers, 4 measurements (sepal and petal length and width), 3 species.
Features are standardized with the mean and standard deviation of the training split.
Split: stratified 80/20 (120 train, 30 validation) with split seed ``SPLIT_SEED``, the same for every task seed.
Model: an MLP with two hidden layers of 16 relu units and 3 logits (``model="mlp:16,16"``), Adam(1e-2), batch
size 16.
Options: ``labels`` (keep only those species), ``batch_size``, ``model`` (``"mlp"`` or ``"mlp:<units>,..."``; the
learning rate stays 1e-2).
"""

from __future__ import annotations

import functools

import keras
import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split

from Tasks import models
from Tasks.base import Task, classification_loss, make_task, select_labels

NAME = "iris"
NUM_CLASSES = 3
INPUT_SHAPE = (4,)
DEFAULT_MODEL = "mlp:16,16"
VALIDATION_FRACTION = 0.2
SPLIT_SEED = 0
LEARNING_RATE = 1e-2


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_validation, y_validation))``, the fixed split, standardized with train statistics."""
    iris = load_iris()
    x_train, x_validation, y_train, y_validation = train_test_split(
        iris.data, iris.target.astype(np.int64), test_size=VALIDATION_FRACTION, stratify=iris.target,
        random_state=SPLIT_SEED,
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)

    def standardize(x: np.ndarray) -> np.ndarray:
        return ((x - mean) / std).astype(np.float32)

    return (standardize(x_train), y_train), (standardize(x_validation), y_validation)


def build_model(seed: int, model: str = DEFAULT_MODEL) -> keras.Model:
    """The model ``model`` (``models.MODEL_CHOICES``, an MLP: the inputs are vectors)."""
    return models.build_named_model(model, INPUT_SHAPE, NUM_CLASSES, name=NAME)


def build_task(
    seed: int = 0, *, labels: list[int] | None = None, batch_size: int = 16, model: str = DEFAULT_MODEL
) -> Task:
    models.check_model_spec(model, INPUT_SHAPE)  # before loading the data
    train, validation = load_data()
    if labels is not None:
        train, validation = select_labels(train, validation, labels)
    build = functools.partial(build_model, model=model)
    return make_task(
        NAME, train, validation, build, classification_loss(), NUM_CLASSES, batch_size, seed,
        learning_rate=LEARNING_RATE,
    )
