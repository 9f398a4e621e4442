"""Shared tiny models with hand-set weights for the Aggregation tests.

The main model (input 6x6x2)::

    Conv2D(3, 3x3)  kernel (3,3,2,3) bias (3,)      -> 4x4x3
    BatchNormalization  gamma (3,) beta (3,), moving mean/variance (3,)
    MaxPooling2D(2) -> Dropout(0.5) -> Flatten      -> 12
    nested Sequential [Dense(4) kernel (12,4) bias (4,), Dense(5) kernel (4,5) bias (5,)]
    Dense(2) head   kernel (5,2) bias (2,)

152 trainable parameters in 10 tensors; every layer has a different input and output width, so grouping along
the wrong axis shows.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

TRAINABLE_PATHS = [
    "conv/kernel", "conv/bias", "bn/gamma", "bn/beta", "nested/inner_a/kernel", "nested/inner_a/bias",
    "nested/inner_b/kernel", "nested/inner_b/bias", "head/kernel", "head/bias",
]


def hand_values(shape, start: float) -> np.ndarray:
    """Distinct, deterministic, non-constant float32 values: start + 0.37 * sin(1 + index)."""
    size = int(np.prod(shape, dtype=np.int64))
    return (start + 0.37 * np.sin(1.0 + np.arange(size))).reshape(shape).astype(np.float32)


def build_main_model() -> keras.Model:
    inputs = keras.Input((6, 6, 2), name="image")
    x = keras.layers.Conv2D(3, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Dropout(0.5, name="dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    nested = keras.Sequential(
        [keras.Input((12,)), keras.layers.Dense(4, name="inner_a"), keras.layers.Dense(5, name="inner_b")],
        name="nested",
    )
    x = nested(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    model = keras.Model(inputs, outputs, name="main")
    for index, variable in enumerate(model.weights):
        values = hand_values(tuple(variable.shape), start=0.1 * index)
        if variable.path.endswith("moving_variance"):
            values = np.abs(values) + 1.5
        variable.assign(values)
    return model


@pytest.fixture
def trainable_paths() -> list[str]:
    return list(TRAINABLE_PATHS)


@pytest.fixture(scope="session")
def _main_model() -> tuple[keras.Model, list[np.ndarray]]:
    model = build_main_model()
    return model, [np.array(v.numpy()) for v in model.weights]


@pytest.fixture
def model(_main_model) -> keras.Model:
    """The shared main model; every weight (trainable or not) is put back after the test."""
    shared, snapshot = _main_model
    yield shared
    for variable, value in zip(shared.weights, snapshot):
        variable.assign(value)


@pytest.fixture
def tied(model) -> list[np.ndarray]:
    """All-equal importances (every group ties)."""
    return [np.ones(tuple(v.shape)) for v in model.trainable_weights]


@pytest.fixture
def distinct(model) -> list[np.ndarray]:
    """Distinct importances, one per weight, increasing in model.trainable_weights order."""
    arrays, offset = [], 0
    for variable in model.trainable_weights:
        size = int(np.prod(variable.shape))
        arrays.append(np.arange(offset, offset + size, dtype=np.float64).reshape(tuple(variable.shape)))
        offset += size
    return arrays


def dense_model(in_features: int, units: int, kernel, bias, name: str = "dense") -> keras.Model:
    """A one-Dense-layer model with the given kernel and bias."""
    model = keras.Sequential([keras.Input((in_features,)), keras.layers.Dense(units, name=name)], name="single")
    model.layers[0].kernel.assign(np.asarray(kernel, dtype=np.float32))
    model.layers[0].bias.assign(np.asarray(bias, dtype=np.float32))
    return model


@pytest.fixture
def make_dense_model():
    return dense_model
