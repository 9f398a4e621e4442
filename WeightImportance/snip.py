"""SNIP connection sensitivity: the first-order estimate of the loss change when a weight is removed.

    importance(w) = | w · g |,        g = dL/dw,   L = (1/N) sum_n loss(y_n, f(x_n))

(Lee et al. 2019, "SNIP: Single-shot Network Pruning based on Connection Sensitivity"). With a mask c on every
weight, dL/dc = w · g at c = 1, the first-order Taylor estimate of the change of L when w is removed. g is the
gradient of the **mean loss over all the data** (one gradient, not per example), the model in inference mode
(``training=False``) and ``loss`` its compiled loss. The paper normalizes the scores by their sum over the whole
network; a common positive factor changes no ranking, so the scores are returned unnormalized.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.hessian import mean_loss_gradient


class SNIP(ImportanceMeasure):
    """importance = |w · dL/dw| with L the mean loss over the data.

    Options: ``num_samples`` (examples used, all if None), ``batch_size`` (examples per gradient batch, default 256).
    """

    name = "snip"

    def __init__(self, num_samples: int | None = None, batch_size: int = 256):
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        weights = check_model(model)
        gradient = mean_loss_gradient(model, data, self.num_samples, self.batch_size)
        return as_importances([np.abs(np.asarray(w, np.float64) * g) for w, g in zip(weights, gradient)],
                              model, self.name)
