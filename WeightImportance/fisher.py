"""Diagonal of the Fisher information, as used by elastic weight consolidation, by four estimators.

The Fisher of the model's predictive distribution p(t | x, w) over the inputs x_1..x_N of ``data``, diagonal:

    F_i = (1/N) sum_n E_{t ~ p(. | x_n, w)} [ (∂ log p(t | x_n, w) / ∂w_i)² ]

(Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks"). Public EWC implementations
estimate it in different ways; ``labels`` names the estimator (van de Ven 2025, "On the computation of the Fisher
information in continual learning", compares them on split MNIST and split CIFAR-10: the exact one does best, and
the choice changes EWC's accuracy and its sensitivity to λ):

- ``labels="data"`` (the default), the *empirical* Fisher: the expectation over the data's labels instead of the
  model's, per example,
      F_i = (1/N) sum_n E_{t ~ r_n} [ (∂ log p(t | x_n) / ∂w_i)² ],     r_n the data's label (distribution) of x_n.
  For a class id y_n (and any hard label) this is (∂ log p(y_n | x_n) / ∂w_i)². For a row of class
  probabilities q_n (one-hot or soft labels, with ``CategoricalCrossentropy``) it is
  sum_k q_nk (∂ log p_k(x_n) / ∂w_i)², the Fisher under q_n; the rows must sum to 1. For soft binary targets
  y_n in [0, 1]^J it is the Fisher under independent t_j ~ Bernoulli(y_nj),
  (∂ ℓ(y_n) / ∂w_i)² + sum_j y_nj (1 - y_nj) (∂ z_nj / ∂w_i)², with ℓ the soft-target log-likelihood and z_j the
  logit of output j (derived in ``_internal/fisher_terms.py``; hard targets give the first term alone). For the
  Gaussian (MSE) it is (∂ log N(y_n; f(x_n), I) / ∂w_i)². Cost: one per-example gradient per example (per
  non-zero entry of q_n for label rows; per output strictly between 0 and 1, plus one, for soft binary targets).
- ``labels="sampled"``, the *true* Fisher by Monte Carlo: one label t_n drawn from p(. | x_n, w) per example
  (reproducible with ``seed``), F_i = (1/N) sum_n (∂ log p(t_n | x_n) / ∂w_i)²: a class id from the softmax (so
  the format of the data's labels does not matter), t_j ~ Bernoulli(p_j) for each binary output, t ~ N(f(x), I)
  for the Gaussian. Cost: one per-example gradient per example; unbiased, with sampling noise.
- ``labels="exact"``, the *true* Fisher with the expectation over t computed exactly, per example, the same code
  as label distributions with r_n = p(. | x_n, w): sum_k p_k (∂ log p_k / ∂w_i)² (categorical);
  sum_j p_j (1 - p_j) (∂ z_j / ∂w_i)² (binary; the squared mean score vanishes under the model's own p); and
  sum_j (∂ f_j / ∂w_i)², the diagonal of JᵀJ (Gaussian with unit variance). The data's labels are not read. Cost:
  K per-example gradients per example for K classes (J for J outputs).
- ``labels="batched"``: what many public EWC implementations compute (differentiating a mini-batch's mean loss,
  then squaring): the square of each mini-batch's mean gradient of the log-likelihood of the data's labels,
  averaged over the M mini-batches b of ``minibatch_size`` consecutive examples (the last one may be smaller;
  each counts once, as those implementations divide by the number of batches),
      F_i = (1/M) sum_b ( ∂/∂w_i (1/|b|) sum_{n in b} log p(y_n | x_n) )²,
  with log p(y_n | x_n) the log-likelihood the loss is built on (sum_k q_nk log p_k for label rows, the
  soft-target ℓ(y_n) for binary targets). It is *not* a per-example Fisher: its expectation over random
  mini-batches of size B is (E g)² + Var(g) / B for the per-example score g, so near a stationary point of the
  data's likelihood (E g ≈ 0) it is about 1/B of the empirical Fisher, and away from one the squared mean
  gradient (E g)² weighs in as well, so its *ranking* of weights differs too (a scale alone would not change
  thresholding; this does). ``minibatch_size=1`` gives the empirical Fisher exactly. Default 32, Keras' default
  ``fit`` batch size, i.e. what an implementation that reuses the training batches computes by default. Cost: one
  gradient per mini-batch (cheapest).

Every estimator runs the model in inference mode (``training=False``), so Dropout is off and BatchNormalization
uses, and does not update, its moving statistics; per-example gradients are vectorized (``per_example.py``).

p(t | x, w) is read from the loss the model was compiled with (``_internal/likelihood.py``), as an object or a
string: ``SparseCategoricalCrossentropy`` (class ids) and ``CategoricalCrossentropy`` (label rows), log p_k =
log softmax(z)_k of the logits z (taking ``log`` of logits directly is wrong) or log of the model's
probabilities (``from_logits=False``); ``BinaryCrossentropy``, every output an independent Bernoulli, p_j =
sigmoid(z_j) or the model's probability clipped to [ε, 1 - ε] as Keras does; ``MeanSquaredError``, a
unit-variance Gaussian around the output. Any other loss is refused with this list, unless ``likelihood`` names
the kind.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.fisher_terms import components, has_first_term, label_weights
from WeightImportance._internal.likelihood import (infer_likelihood, log_likelihood, sample_labels,
                                                   target_check)
from WeightImportance.base import ImportanceMeasure, as_importances, check_model
from WeightImportance.per_example import WeightedSquares, mean_of_squared_batch_means, mean_over_examples

LABELS = ("data", "sampled", "exact", "batched")
DEFAULT_MINIBATCH_SIZE = 32  # Keras' default fit batch size


class Fisher(ImportanceMeasure):
    """Diagonal Fisher information by the estimator ``labels`` (see the module docstring for each formula).

    Options: ``labels`` ("data": empirical, per example; "sampled": true Fisher, one sampled label per example;
    "exact": true Fisher, the expectation over all labels per example; "batched": squared mini-batch mean
    gradients), ``num_samples`` (examples used, all if None), ``batch_size`` (examples vectorized at once,
    default 64; it does not change the result, except which draws "sampled" makes), ``minibatch_size`` (the
    mini-batch size of "batched" only, default 32), ``seed`` (for "sampled"), ``likelihood`` ("auto" reads the
    model's compiled loss; "categorical", "binary" or "gaussian" name the kind).
    """

    name = "fisher"
    needs_seed = True

    def __init__(self, labels: str = "data", num_samples: int | None = None, batch_size: int = 64, seed: int = 0,
                 likelihood: str = "auto", minibatch_size: int | None = None):
        if labels not in LABELS:
            raise ValueError(f"Unknown labels {labels!r} for fisher; valid: {list(LABELS)}.")
        if minibatch_size is not None:
            if labels != "batched":
                raise ValueError(f"minibatch_size is the mini-batch size of labels='batched' only; got "
                                 f"minibatch_size={minibatch_size!r} with labels={labels!r} (batch_size sets how "
                                 "many examples are vectorized at once).")
            if isinstance(minibatch_size, bool) or not isinstance(minibatch_size, int) or minibatch_size < 1:
                raise ValueError(f"minibatch_size must be a positive integer; got {minibatch_size!r}.")
        self.labels = labels
        self.num_samples = num_samples
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.likelihood = likelihood
        self.minibatch_size = DEFAULT_MINIBATCH_SIZE if minibatch_size is None else minibatch_size

    def compute(self, model, data=None):
        check_model(model)
        likelihood = infer_likelihood(model, self.likelihood)
        if self.labels == "batched":
            fisher = mean_of_squared_batch_means(model, data, _log_likelihood_of(likelihood), self.minibatch_size,
                                                 self.num_samples, key=("fisher-batched", likelihood),
                                                 check_targets=target_check(model, likelihood))
        elif self.labels == "sampled":
            fisher = self._sampled(model, data, likelihood)
        elif self.labels == "data" and _labels_are_points(likelihood):
            # Class ids and Gaussian targets: the square of each example's score.
            fisher = mean_over_examples(model, data, _log_likelihood_of(likelihood), _square, self.num_samples,
                                        self.batch_size, key=("fisher", likelihood),
                                        check_targets=target_check(model, likelihood))
        else:
            fisher = self._under_label_distribution(model, data, likelihood)
        return as_importances(fisher, model, self.name)

    def _sampled(self, model, data, likelihood):
        batch_index = [0]

        def transform(x, y):
            seed = tf.constant([self.seed, batch_index[0]], dtype=tf.int32)
            batch_index[0] += 1
            return x, sample_labels(likelihood, model(x, training=False), seed)

        # The data's labels are not used, and the sampled ones have the format of_sampled_labels says.
        labels = likelihood.of_sampled_labels()
        return mean_over_examples(model, data, _log_likelihood_of(labels), _square, self.num_samples,
                                  self.batch_size, transform, key=("fisher", labels))

    def _under_label_distribution(self, model, data, likelihood):
        """"data" with label rows or binary targets, and "exact": see ``_internal/fisher_terms.py``."""
        # The components, and so the compiled function, are the same for class ids and label rows.
        shared = likelihood.of_sampled_labels()

        def component(model, x, j):
            v = components(shared, model(x, training=False))
            return tf.reduce_sum(tf.gather(v, tf.cast(j, tf.int32), axis=1, batch_dims=1))

        weighted = WeightedSquares(component, label_weights(likelihood, self.labels, model),
                                   key=("fisher-components", shared))
        first = _log_likelihood_of(likelihood) if has_first_term(likelihood, self.labels) else None
        check = target_check(model, likelihood) if self.labels == "data" else None
        return mean_over_examples(model, data, first, _square, self.num_samples, self.batch_size,
                                  key=("fisher", likelihood), check_targets=check, weighted=weighted)


def _labels_are_points(likelihood) -> bool:
    """Whether the data's labels are single values rather than distributions (class ids; Gaussian targets)."""
    return likelihood.kind == "gaussian" or (likelihood.kind == "categorical" and likelihood.sparse)


def _log_likelihood_of(likelihood):
    def objective(model, x, y):
        return log_likelihood(likelihood, model(x, training=False), y)

    return objective


def _square(g, w):
    return tf.square(g)
