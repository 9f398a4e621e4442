"""One epoch of training in a seeded order: the data order is a pure function of a seed key, so a run that
resumes from a checkpoint sees the same batches as one that never stopped."""

from __future__ import annotations

import keras
import numpy as np


def seeded_order(num_examples: int, key: list[int]) -> np.ndarray:
    """A permutation of ``range(num_examples)`` drawn from ``numpy.random.default_rng(key)``."""
    return np.random.default_rng(key).permutation(num_examples)


def fit_epoch(model: keras.Model, x: np.ndarray, y: np.ndarray, *, batch_size: int, order_key: list[int],
              epoch: int = 1, callbacks: list | None = None) -> keras.callbacks.History:
    """Train ``model`` for one epoch (the ``epoch``-th, 1-based, as Keras' callbacks see it) on ``(x, y)`` in the
    order ``seeded_order(len(x), order_key)``; Keras' own shuffling is off."""
    order = seeded_order(len(x), order_key)
    return model.fit(x[order], y[order], batch_size=batch_size, epochs=epoch, initial_epoch=epoch - 1,
                     shuffle=False, verbose=0, callbacks=list(callbacks or []))
