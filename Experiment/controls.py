"""Controls that give a ranking of measures its meaning.

``shuffled:NAME`` is NAME's importances permuted at random within each trainable tensor of each layer (Frankle et
al. 2021, "Pruning Neural Networks at Initialization: Why Are We Missing the Mark?"). It keeps how much importance
the measure gives each layer (and so, at scope ``model``, how sparsity is spread over layers) and destroys which
weights within the layer it picks. A measure no better than its own shuffle only allocates sparsity across layers.
Kernel and bias are shuffled separately so that their different scales are not mixed.
"""

from __future__ import annotations

import numpy as np

from Schema import CONTROL_PREFIX


def is_control(measure: str) -> bool:
    return measure.startswith(CONTROL_PREFIX)


def base_measure(measure: str) -> str:
    """The label whose importances a measure uses: ``shuffled:fisher@sampled`` -> ``fisher@sampled``; a label
    that is not a control is returned unchanged."""
    return measure[len(CONTROL_PREFIX):] if is_control(measure) else measure


def shuffled_importances(importances: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """Each tensor's importances randomly permuted among its own entries."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(a.ravel()).reshape(a.shape) for a in importances]
