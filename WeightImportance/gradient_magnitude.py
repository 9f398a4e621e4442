"""Gradient magnitude: the mean absolute per-example gradient of the loss.

    importance(w) = (1/N) sum_n | d loss(y_n, f(x_n)) / d w |

with ``loss`` the model's compiled loss and the model in inference mode (``training=False``). The gradient is
taken **per example** (vectorized, see ``per_example.py``) and its absolute value averaged: the absolute value of
the averaged gradient would let examples that pull a weight in opposite directions cancel out. A weight the loss
is sensitive to on many examples is taken to be important.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.likelihood import loss_likelihood, loss_objective, target_check
from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import mean_over_examples


class GradientMagnitude(ImportanceMeasure):
    """importance = mean over examples of |g_n|, per example.

    Options: ``num_samples`` (examples used, all if None), ``batch_size`` (examples vectorized at once, default 64).
    """

    name = "gradient_magnitude"

    def __init__(self, num_samples: int | None = None, batch_size: int = 64):
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        check_model(model)
        magnitude = mean_over_examples(model, data, loss_objective(model), lambda g, w: tf.abs(g),
                                       self.num_samples, self.batch_size, key=("loss", "abs", id(model.loss)),
                                       check_targets=target_check(model, loss_likelihood(model)))
        return as_importances(magnitude, model, self.name)
