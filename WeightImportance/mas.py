"""Memory Aware Synapses: the sensitivity of the squared output norm to each weight.

    importance(w) = (1/N) sum_n | d ||f(x_n)||_2^2 / d w |

(Aljundi et al. 2018, "Memory Aware Synapses: Learning what (not) to forget", eq. 4 with the squared l2 norm).
f(x) is the model's output as it returns it: the **logits** for this toolkit's classification models (no softmax
is applied), the prediction for regression. No labels are needed, so ``y`` of ``data`` is ignored. The gradient is
taken **per example** (vectorized, see ``per_example.py``) in inference mode (``training=False``), and its
absolute value averaged over the examples.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import mean_over_examples


def squared_output_norm(model, x, y):
    """||f(x)||_2^2 of the model's (first) output; ``y`` is ignored."""
    outputs = model(x, training=False)
    if isinstance(outputs, (list, tuple, dict)):
        raise ValueError("mas needs a model with a single output tensor.")
    return tf.reduce_sum(tf.square(outputs))


class MAS(ImportanceMeasure):
    """importance = mean over examples of |d ||f(x_n)||^2 / dw|, per example; labels unused.

    Options: ``num_samples`` (examples used, all if None), ``batch_size`` (examples vectorized at once, default 64).
    """

    name = "mas"

    def __init__(self, num_samples: int | None = None, batch_size: int = 64):
        self.num_samples = num_samples
        self.batch_size = int(batch_size)

    def compute(self, model, data=None):
        check_model(model)
        mas = mean_over_examples(model, data, squared_output_norm, lambda g, w: tf.abs(g),
                                 self.num_samples, self.batch_size, key=("output_norm", "abs"))
        return as_importances(mas, model, self.name)
