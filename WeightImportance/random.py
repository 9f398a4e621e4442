"""Random importance: the baseline every measure is judged against.

    importance(w) ~ Uniform(0, 1), independently for every weight, drawn from ``seed``.

A measure that removes weights no better than this one has found nothing about which weights matter.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model


class Random(ImportanceMeasure):
    """Uniform random importances. Options: ``seed`` (int, default 0)."""

    name = "random"
    needs_data = False
    needs_seed = True

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def compute(self, model, data=None):
        weights = check_model(model)
        rng = np.random.default_rng(self.seed)
        return as_importances([rng.random(tuple(w.shape)) for w in weights], model, self.name)
