"""LAMP: layer-adaptive magnitude-based pruning scores.

    importance(w_u) = w_u^2 / sum_{v >= u} w_v^2

(Lee et al. 2021, "Layer-adaptive Sparsity for the Magnitude-based Pruning", eq. 2), with the entries of one tensor
indexed u = 1, 2, ... in ascending order of magnitude, so the denominator sums the squares of every weight of the
tensor at least as large as w_u. The score is computed **per trainable tensor** (the paper: per layer's weight
tensor; here a layer's kernel, bias, and BatchNormalization gamma and beta each form their own tensor). The
largest weight of a tensor scores 1, so every tensor keeps at least one weight under a global threshold: the
layer-adaptive sparsity of the paper.

Ties: weights of equal magnitude get the same score, the one the last of them in sorted order would get
(w_u^2 / (w_u^2 + sum of the squares of the strictly larger weights)), so the result does not depend on how ties
are ordered and the largest weights of a tensor all score 1. Zeros score 0; a tensor of only zeros scores 0
everywhere (0 / 0 is taken as 0). Ignores ``data``. No options.
"""

from __future__ import annotations

import numpy as np

from WeightImportance.base import ImportanceMeasure, as_importances, check_model


def lamp_scores(weight: np.ndarray) -> np.ndarray:
    """LAMP score of every entry of one tensor (see the module docstring)."""
    squares = np.square(np.asarray(weight, np.float64))
    flat = squares.ravel()
    ascending = np.sort(flat)
    at_least = np.cumsum(ascending[::-1])[::-1]  # at_least[i] = sum_{j >= i} ascending[j]
    last_tie = np.searchsorted(ascending, flat, side="right") - 1
    denominator = at_least[last_tie]
    scores = np.divide(flat, denominator, out=np.zeros_like(flat), where=denominator > 0)
    return scores.reshape(squares.shape)


class LAMP(ImportanceMeasure):
    """importance = w_u^2 / sum of the squares of the weights of its tensor at least as large. No options."""

    name = "lamp"
    needs_data = False

    def compute(self, model, data=None):
        return as_importances([lamp_scores(np.asarray(w)) for w in check_model(model)], model, self.name)
