"""Diagonal of the Fisher information, as used by elastic weight consolidation.

    F_i = (1/N) sum_n ( d log p(y_n | x_n, w) / d w_i )^2

(Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks"). The gradient is taken **per
example** and squared before averaging; squaring the gradient of a mini-batch mean would underestimate F by
roughly the batch size and mix examples. The model runs in inference mode (``training=False``), so Dropout is off
and BatchNormalization uses, and does not update, its moving statistics.

p(y | x, w) is read from the loss the model was compiled with (``_internal/likelihood.py``), as an object or a
string:
- ``SparseCategoricalCrossentropy``: log p(y | x) = log softmax(z)_y for logits z (taking ``log`` of logits
  directly is wrong), or log p_y of the model's probabilities (``from_logits=False``).
- ``CategoricalCrossentropy`` with one-hot or soft label rows q: log p(y | x) generalises to
  sum_k q_k log softmax(z)_k, the expected log-likelihood under q (one-hot q gives the sparse case exactly).
- ``BinaryCrossentropy``: every output an independent Bernoulli, log p(y | x) = sum_j [y_j log sigmoid(z_j) +
  (1 - y_j) log(1 - sigmoid(z_j))]; with ``from_logits=False`` the model's probabilities, clipped to
  [ε, 1 - ε] as Keras does.
- ``MeanSquaredError``: a unit-variance Gaussian around the output, log p(y | x) = -1/2 ||y - f(x)||^2 + const.
Any other loss is refused with the list above, unless ``likelihood`` names the kind.

Two estimators:
- ``labels="data"`` (the default): the *empirical* Fisher, with each example's own label y_n (class ids, label
  rows or targets, as the loss expects them; checked against the model's outputs first).
- ``labels="sampled"``: the *true* Fisher, with y_n drawn from the model's predictive distribution p(y | x_n, w)
  (one sample per example, reproducible with ``seed``): a class id from the softmax (so the format of the data's
  labels does not matter, and CategoricalCrossentropy gives the same numbers as SparseCategoricalCrossentropy),
  y_j ~ Bernoulli(p_j) for each binary output, y ~ N(f(x), I) for the Gaussian.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.likelihood import (infer_likelihood, log_likelihood, sample_labels,
                                                   target_check)
from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import mean_over_examples

LABELS = ("data", "sampled")


class Fisher(ImportanceMeasure):
    """Diagonal Fisher information, per example.

    Options: ``labels`` ("data": empirical Fisher; "sampled": true Fisher), ``num_samples`` (examples used, all
    if None), ``batch_size`` (examples vectorized at once, default 64), ``seed`` (for sampled labels),
    ``likelihood`` ("auto" reads the model's compiled loss; "categorical", "binary" or "gaussian" name the kind).
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
        likelihood = infer_likelihood(model, self.likelihood)
        transform, check, labels = None, target_check(model, likelihood), likelihood
        if self.labels == "sampled":
            batch_index = [0]

            def transform(x, y):
                seed = tf.constant([self.seed, batch_index[0]], dtype=tf.int32)
                batch_index[0] += 1
                return x, sample_labels(likelihood, model(x, training=False), seed)

            # The data's labels are not used, and the sampled ones have the format of_sampled_labels says.
            check, labels = None, likelihood.of_sampled_labels()

        def objective(model, x, y):
            return log_likelihood(labels, model(x, training=False), y)

        fisher = mean_over_examples(model, data, objective, lambda g, w: tf.square(g), self.num_samples,
                                    self.batch_size, transform, key=("fisher", labels), check_targets=check)
        return as_importances(fisher, model, self.name)
