"""Shared pieces of the run-layer tests: a tiny compiled model whose state can be checkpointed."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def tiny_model():
    """Dense(3 -> 2) with hand-set weights, compiled with Adam (so it has optimizer state to checkpoint)."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    model.optimizer.build(model.trainable_variables)
    model.set_weights([np.arange(6, dtype=np.float32).reshape(3, 2), np.array([0.5, -0.5], np.float32)])
    return model
