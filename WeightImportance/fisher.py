"""Diagonal of the Fisher information, as used by elastic weight consolidation.

    F_i = (1/N) sum_n ( d log p(y_n | x_n, w) / d w_i )^2

(Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks"). The gradient is taken **per
example** and squared before averaging; squaring the gradient of a mini-batch mean would underestimate F by
roughly the batch size and mix examples. The model runs in inference mode (``training=False``), so Dropout is off
and BatchNormalization uses, and does not update, its moving statistics. For a model that outputs logits,
log p = log_softmax(logits)[y] (taking ``log`` of logits directly is wrong).

Two estimators:
- ``labels="data"`` (the default): the *empirical* Fisher, with each example's own label y_n.
- ``labels="sampled"``: the *true* Fisher, with y_n drawn from the model's predictive distribution p(y | x_n, w)
  (one sample per example, reproducible with ``seed``).

For regression models compiled with mean squared error, p(y | x) is a unit-variance Gaussian around the output.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.likelihood import infer_likelihood, log_likelihood, sample_labels
from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import mean_over_examples

LABELS = ("data", "sampled")


class Fisher(ImportanceMeasure):
    """Diagonal Fisher information, per example.

    Options: ``labels`` ("data": empirical Fisher; "sampled": true Fisher), ``num_samples`` (examples used, all
    if None), ``batch_size`` (examples vectorized at once, default 64), ``seed`` (for sampled labels),
    ``likelihood`` ("auto" reads the model's compiled loss; "categorical" or "gaussian").
    """

    name = "fisher"
    needs_seed = True

    def __init__(self, labels: str = "data", num_samples: int | None = None, batch_size: int = 64, seed: int = 0,
                 likelihood: str = "auto"):
        if labels not in LABELS:
            raise ValueError(f"Unknown labels {labels!r} for fisher; valid: {list(LABELS)}.")
        self.labels = labels
        self.num_samples = num_samples
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.likelihood = likelihood

    def compute(self, model, data=None):
        check_model(model)
        kind, from_logits = infer_likelihood(model, self.likelihood)

        def objective(model, x, y):
            return log_likelihood(kind, from_logits, model(x, training=False), y)

        transform = None
        if self.labels == "sampled":
            batch_index = [0]

            def transform(x, y):
                seed = tf.constant([self.seed, batch_index[0]], dtype=tf.int32)
                batch_index[0] += 1
                return x, sample_labels(kind, from_logits, model(x, training=False), seed)

        fisher = mean_over_examples(model, data, objective, lambda g, w: tf.square(g), self.num_samples,
                                    self.batch_size, transform, key=("fisher", kind, from_logits))
        return as_importances(fisher, model, self.name)
