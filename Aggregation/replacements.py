"""Replacements: the values a removed weight takes.

- ``noise`` (default): w_removed ~ Normal(0, (0.1 * std(W))^2), where std(W) is the standard deviation of the
  *original* (trained) tensor W that the weight belongs to, over all its entries. A tensor whose entries are all
  equal (e.g. a zero-initialised bias) has std 0 and so gets zeros.
- ``zero``: w_removed = 0.

Replacement values are drawn once for the whole model (``replacement_values``), in ``model.trainable_weights``
order, from ``np.random.default_rng(seed)``, so every threshold of one ranking, and the fully replaced
("chance") model, use the same values: a weight removed at several thresholds always takes the same value.
"""

from __future__ import annotations

import numpy as np

NOISE_SCALE = 0.1


def noise_values(weights: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Gaussian noise with std NOISE_SCALE * std(original tensor), in each tensor's dtype."""
    values = []
    for weight in weights:
        scale = NOISE_SCALE * float(np.std(weight, dtype=np.float64)) if weight.size else 0.0
        values.append(rng.normal(0.0, scale, size=weight.shape).astype(weight.dtype, copy=False))
    return values


def zero_values(weights: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """Zeros in each tensor's shape and dtype."""
    return [np.zeros_like(weight) for weight in weights]
