"""function_approximation: a synthetic 1-D regression, y = sin(3x) + noise.

Data: x drawn uniformly from [-1, 1], y = sin(3x) + eps with eps ~ Normal(0, ``NOISE_STD``^2), both shaped
``(N, 1)`` and ``float32``; generated with the data seed ``DATA_SEED``, the same for every task seed.
Split: ``NUM_TRAIN`` training and ``NUM_VALIDATION`` validation points, drawn independently.
Model: ``models.mlp`` with two hidden layers of 32 tanh units and one linear output, Adam(1e-2), mean squared
error loss, batch size 32. ``num_classes`` is None.
Options: ``batch_size``.
"""

from __future__ import annotations

import numpy as np

from Tasks import models
from Tasks.base import Task, make_task, regression_loss

NAME = "function_approximation"
NUM_CLASSES = None
INPUT_SHAPE = (1,)
NUM_TRAIN = 512
NUM_VALIDATION = 256
NOISE_STD = 0.05
DATA_SEED = 0
LEARNING_RATE = 1e-2


def target_function(x: np.ndarray) -> np.ndarray:
    """The noiseless function the model learns."""
    return np.sin(3.0 * x)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_validation, y_validation))``, the fixed data."""
    rng = np.random.default_rng(DATA_SEED)

    def draw(num_points: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-1.0, 1.0, size=(num_points, 1))
        y = target_function(x) + rng.normal(0.0, NOISE_STD, size=(num_points, 1))
        return x.astype(np.float32), y.astype(np.float32)

    return draw(NUM_TRAIN), draw(NUM_VALIDATION)


def build_model(seed: int):
    return models.mlp(INPUT_SHAPE, 1, hidden_units=(32, 32), activation="tanh", name=NAME)


def build_task(seed: int = 0, *, batch_size: int = 32) -> Task:
    train, validation = load_data()
    return make_task(
        NAME, train, validation, build_model, regression_loss(), NUM_CLASSES, batch_size, seed,
        learning_rate=LEARNING_RATE,
    )
