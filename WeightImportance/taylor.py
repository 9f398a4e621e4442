"""First-order Taylor importance: the mean squared per-example loss change of removing a weight, to first order.

    importance(w) = (1/N) sum_n ( g_n · w )^2,        g_n = d loss(y_n, f(x_n)) / d w

(Molchanov et al. 2019, "Importance Estimation for Neural Network Pruning", eq. 3, I_m = (g_m w_m)^2). g_n · w is
the first-order Taylor estimate of the change of example n's loss when w is set to zero; squaring before
averaging keeps examples from cancelling. The paper squares the gradient of each mini-batch and averages over
mini-batches; here the gradient is taken **per example** (vectorized, see ``per_example.py``), the limit of
mini-batches of one. ``loss`` is the model's compiled loss, the model in inference mode (``training=False``).
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.likelihood import loss_likelihood, loss_objective, target_check
from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import mean_over_examples


class Taylor(ImportanceMeasure):
    """importance = mean over examples of (g_n · w)^2, per example.

    Options: ``num_samples`` (examples used, all if None), ``batch_size`` (examples vectorized at once, default 64).
    """

    name = "taylor"

    def __init__(self, num_samples: int | None = None, batch_size: int = 64):
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        check_model(model)
        taylor = mean_over_examples(model, data, loss_objective(model), lambda g, w: tf.square(g * w),
                                    self.num_samples, self.batch_size, key=("loss", "taylor", id(model.loss)),
                                    check_targets=target_check(model, loss_likelihood(model)))
        return as_importances(taylor, model, self.name)
