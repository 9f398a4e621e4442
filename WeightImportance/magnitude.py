"""Weight magnitude: importance(w) = |w|.

The classic pruning criterion (Han et al. 2015, "Learning both Weights and Connections for Efficient Neural
Networks"): after training, small weights matter least.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model


class Magnitude(ImportanceMeasure):
    """importance(w) = |w|. No options."""

    name = "magnitude"
    needs_data = False

    def compute(self, model, data=None):
        return as_importances([np.abs(np.asarray(w)) for w in check_model(model)], model, self.name)
