"""Optimal Brain Damage saliency: the second-order estimate of the loss increase when a weight is removed.

    importance(w_i) = 1/2 · H_ii · w_i^2,      H = d^2 L / dw^2,   L = (1/N) sum_n loss(y_n, f(x_n))

(LeCun, Denker & Solla 1990, "Optimal Brain Damage"). At a minimum of L the gradient term vanishes and, keeping
only the diagonal of the Hessian, removing w_i changes L by 1/2 H_ii w_i^2. L is the mean (the paper: sum) of the
model's compiled loss over the data, in inference mode (``training=False``); a constant factor changes no ranking.
Away from a minimum, or where the loss is not convex, H_ii can be negative: such a weight scores below zero,
the least important, since removing it is predicted to lower the loss.

The Hessian diagonal (see ``hessian.py``) is exact (``hessian="exact"``: one Hessian-vector product per parameter,
refused above ``hessian.MAX_EXACT_PARAMETERS`` parameters) or Hutchinson's estimator (``hessian="hutchinson"``:
(1/K) sum_k z_k ⊙ H z_k over ``num_probes`` = K Rademacher vectors drawn from ``seed``); ``hessian="auto"`` (the
default) is exact up to ``hessian.MAX_EXACT_PARAMETERS`` trainable parameters and Hutchinson above. Cost: about
three forward passes over the data per probe (Hutchinson) or per parameter (exact).
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.hessian import HESSIAN_METHODS, hessian_diagonal, resolve_hessian_method


class OBD(ImportanceMeasure):
    """importance = 1/2 H_ii w_i^2, with the Hessian diagonal exact or estimated.

    Options: ``hessian`` ("auto", "exact", "hutchinson"), ``num_probes`` (Rademacher vectors for Hutchinson,
    default 100), ``seed`` (of the probes), ``num_samples`` (examples used, all if None), ``batch_size`` (examples
    per batch, default 64).
    """

    name = "obd"
    needs_seed = True

    def __init__(self, hessian: str = "auto", num_probes: int = 100, seed: int = 0, num_samples: int | None = None,
                 batch_size: int = 64):
        if hessian not in HESSIAN_METHODS:
            raise ValueError(f"Unknown hessian {hessian!r} for obd; valid: {list(HESSIAN_METHODS)}.")
        if not isinstance(num_probes, (int, np.integer)) or num_probes < 1:
            raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}.")
        self.hessian = hessian
        self.num_probes = int(num_probes)
        self.seed = int(seed)
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        weights = check_model(model)
        method = resolve_hessian_method(model, self.hessian)
        diagonal = hessian_diagonal(model, data, method, self.num_probes, self.seed, self.num_samples,
                                    self.batch_size)
        return as_importances([0.5 * h * np.square(np.asarray(w, np.float64)) for h, w in zip(diagonal, weights)],
                              model, self.name)
