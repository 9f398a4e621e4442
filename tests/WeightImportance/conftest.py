"""A tiny model with hand-set weights shared by the WeightImportance tests, and a little data for it."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def build_tiny_cnn(seed: int = 0) -> keras.Model:
    """Conv2D -> BatchNormalization -> ReLU -> MaxPool -> Flatten -> Dropout -> Dense(3) logits, on 4x4x1 inputs."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3, padding="same"),
            keras.layers.BatchNormalization(momentum=0.5),
            keras.layers.ReLU(),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(3),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # Non-trivial BatchNormalization statistics, so that inference mode differs from training mode.
    bn = model.layers[1]
    bn.moving_mean.assign(np.array([0.3, -0.2], np.float32))
    bn.moving_variance.assign(np.array([1.7, 0.6], np.float32))
    return model


@pytest.fixture
def tiny_cnn() -> keras.Model:
    return build_tiny_cnn()


@pytest.fixture
def tiny_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 4, 4, 1)).astype(np.float32)
    y = rng.integers(0, 3, size=20)
    return x, y
