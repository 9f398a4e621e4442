"""GraSP: how much removing a weight would reduce the gradient flow, w ⊙ (H g).

    importance(w) = w ⊙ (H g),     g = dL/dw,  H = d^2 L / dw^2,   L = (1/N) sum_n loss(y_n, f(x_n))

(Wang, Zhang & Grosse 2020, "Picking Winning Tickets Before Training by Preserving Gradient Flow"). The gradient
flow is the squared gradient norm g^T g. Removing the weights δ = -w changes it, to first order, by
2 δ^T H g; the paper's score is S(-w) = -w ⊙ H g (eq. 8), and GraSP **removes the weights with the largest S**:
their removal reduces the gradient flow least (or increases it). Keeping the weights whose removal would reduce
the gradient flow most is "larger = more important" for

    importance = -S(-w) = w ⊙ (H g),

which is what this measure returns: the paper's ranking, with the sign flipped to this toolkit's convention.
Values can be negative (those weights are the least important).

g is the gradient of the mean of the model's compiled loss over the data (inference mode, ``training=False``) and
H g one Hessian-vector product over the same data (back-over-back, see ``hessian.py``): two passes over the data.
The paper's code divides the logits by a temperature (T = 200) first; here the compiled loss is used as it is.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.hessian import hessian_vector_product, mean_loss_gradient


class GraSP(ImportanceMeasure):
    """importance = w ⊙ (H g) (the negated GraSP score, so larger = more important).

    Options: ``num_samples`` (examples used, all if None), ``batch_size`` (examples per batch, default 256).
    """

    name = "grasp"

    def __init__(self, num_samples: int | None = None, batch_size: int = 256):
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        weights = check_model(model)
        gradient = mean_loss_gradient(model, data, self.num_samples, self.batch_size)
        hessian_gradient = hessian_vector_product(model, data, gradient, self.num_samples, self.batch_size)
        return as_importances([np.asarray(w, np.float64) * hg for w, hg in zip(weights, hessian_gradient)],
                              model, self.name)
