"""Inverse weight magnitude: importance(w) = 1 / max(|w|, epsilon).

The reverse of ``magnitude`` (large weights are "unimportant"): a control that should do worse than random for
order ``least``. ``epsilon`` (default 1e-12) keeps the value finite at w = 0, where the importance is 1/epsilon.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model


class InverseMagnitude(ImportanceMeasure):
    """importance(w) = 1 / max(|w|, epsilon). Options: ``epsilon`` (float > 0, default 1e-12)."""

    name = "inverse_magnitude"
    needs_data = False

    def __init__(self, epsilon: float = 1e-12):
        if not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon!r}.")
        self.epsilon = float(epsilon)

    def compute(self, model, data=None):
        weights = check_model(model)
        return as_importances([1.0 / np.maximum(np.abs(np.asarray(w, np.float64)), self.epsilon) for w in weights], model, self.name)
