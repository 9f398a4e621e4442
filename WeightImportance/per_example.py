"""Vectorized per-example gradients, and the squared mini-batch gradient they are contrasted with.

Several measures average a function of the gradient of *each example's* objective (the Fisher averages squared
per-example gradients; averaging first and squaring after would give a different quantity). A Python loop
over examples is slow, so the gradients of a whole batch are computed at once with ``tf.vectorized_map``, which
turns the single-example gradient into batched operations.

- ``mean_over_examples``: (1/N) Σ_n reduce(g_n, w), optionally plus weighted squared gradients of per-example
  components, (1/N) Σ_n Σ_j c_nj (∂ v_j(x_n) / ∂w)² (``WeightedSquares``: the Fisher under a label distribution,
  see ``_internal/fisher_terms.py``). The (example, component) pairs with c_nj ≠ 0 are vectorized like
  examples, ``batch_size`` pairs at a time, so memory stays that of ``batch_size`` per-example gradients.
- ``mean_of_squared_batch_means``: (1/M) Σ_b (∂ mean_{n in b} objective_n / ∂w)² over mini-batches b, the
  estimator that squares each mini-batch's mean gradient.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from WeightImportance._internal.data import iterate_batches, rebatch

# objective(model, x_batch_of_one, y_batch_of_one) -> scalar tensor
Objective = Callable[[keras.Model, tf.Tensor, tf.Tensor], tf.Tensor]
# reduce(per_example_gradients [B, *shape], weights) -> summand of the same shape as the weight
Reduction = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


def per_example_gradients(model: keras.Model, objective: Objective) -> Callable:
    """A compiled function ``(x, y) -> list of [batch, *weight.shape] tensors``: d objective(x_n, y_n) / d w."""
    weights = model.trainable_weights

    def one_example(example):
        x, y = example
        with tf.GradientTape() as tape:
            value = objective(model, x[None], y[None])
        gradients = tape.gradient(value, weights)
        return [tf.zeros_like(w) if g is None else tf.convert_to_tensor(g) for g, w in zip(gradients, weights)]

    @tf.function(reduce_retracing=True)
    def gradients(x, y):
        return tf.vectorized_map(one_example, (x, y))

    return gradients


# model -> {key: (ids of its trainable variables, compiled function)}: a measure computed again on the same model
# (every measured epoch, every trial's grid) reuses its traced function instead of tracing a new one.
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached(model: keras.Model, key, build: Callable[[], Callable]) -> Callable:
    """``build()``, or the function it built before for ``model`` and ``key`` (None: never cached)."""
    variables = tuple(id(w) for w in model.trainable_weights)
    cache = _compiled.setdefault(model, {}) if key is not None else {}
    if key in cache and cache[key][0] == variables:
        return cache[key][1]
    function = build()
    if key is not None:
        cache[key] = (variables, function)
    return function


def _summed_gradients(model: keras.Model, objective: Objective, reduce: Reduction, key) -> Callable:
    """A compiled ``(x, y) -> [sum_n reduce(g_n, w) for each weight]``; cached per model when ``key`` is given."""
    def build():
        gradients = per_example_gradients(model, objective)
        weights = model.trainable_weights

        @tf.function(reduce_retracing=True)
        def sums(x, y):
            return [tf.reduce_sum(reduce(g, tf.convert_to_tensor(w)[None]), axis=0)
                    for g, w in zip(gradients.python_function(x, y), weights)]

        return sums

    return _cached(model, key, build)


@dataclasses.dataclass(frozen=True)
class WeightedSquares:
    """Σ_j c_nj (∂ v_j(x_n) / ∂w)² for every example n: ``component(model, x, j)`` is component j of the vector
    v of a batch of one example (``j`` an int tensor of shape [1]); ``weights(x, y)`` gives the [batch, J]
    weights c of a batch (entries that are not positive are skipped); ``key`` names the component for the cache of
    compiled functions (None: not cached)."""

    component: Objective
    weights: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    key: object = None


def _weighted_square_sums(model: keras.Model, component: Objective, key) -> Callable:
    """A compiled ``(x, j, c) -> [sum_t c_t (∂ v_{j_t}(x_t) / ∂w)² for each weight]`` over the terms t."""
    def build():
        gradients = per_example_gradients(model, component)

        @tf.function(reduce_retracing=True)
        def sums(x, j, c):
            totals = []
            for g in gradients.python_function(x, j):
                weight = tf.reshape(tf.cast(c, g.dtype), tf.concat([[-1], tf.ones([tf.rank(g) - 1], tf.int32)], 0))
                totals.append(tf.reduce_sum(weight * tf.square(g), axis=0))
            return totals

        return sums

    return _cached(model, key, build)


def _terms(x: tf.Tensor, weights: tf.Tensor, size: int) -> Iterator[tuple[tf.Tensor, tf.Tensor, tf.Tensor]]:
    """The (examples, component ids, weights) of the positive entries of ``weights``, ``size`` at a time."""
    weights = tf.convert_to_tensor(weights)
    index = tf.where(weights > 0)
    for start in range(0, int(index.shape[0]), size):
        chunk = index[start:start + size]
        yield tf.gather(x, chunk[:, 0]), chunk[:, 1], tf.gather_nd(weights, chunk)


def mean_over_examples(
    model: keras.Model,
    data,
    objective: Objective | None,
    reduce: Reduction | None,
    num_samples: int | None = None,
    batch_size: int = 64,
    transform_batch: Callable | None = None,
    key=None,
    check_targets: Callable | None = None,
    weighted: WeightedSquares | None = None,
) -> list[np.ndarray]:
    """(1/N) sum_n reduce(g_n, w) over the examples of ``data``, with g_n the per-example gradients of
    ``objective``; plus (1/N) sum_n sum_j c_nj (∂ v_j(x_n) / ∂w)² where ``weighted`` is given (``objective`` may
    then be None, for the weighted squares alone).

    ``transform_batch(x, y) -> (x, y)`` may rewrite each batch first (e.g. replace labels by sampled ones).
    ``key`` names the (objective, reduce) pair so that the compiled function is reused when the same measure is
    computed again on the same model; leave it None for a one-off objective. ``check_targets(x, y)`` checks each
    batch's targets first (see ``_internal.likelihood.target_check``).
    """
    sums = None if objective is None else _summed_gradients(model, objective, reduce, key)
    weighted_sums = None if weighted is None else _weighted_square_sums(model, weighted.component, weighted.key)
    totals = [np.zeros(tuple(w.shape), dtype=np.float64) for w in model.trainable_weights]
    count = 0
    for x, y in iterate_batches(data, batch_size=batch_size, num_samples=num_samples,
                                check_targets=check_targets):
        if transform_batch is not None:
            x, y = transform_batch(x, y)
        if sums is not None:
            for total, batch_sum in zip(totals, sums(x, y)):
                total += batch_sum.numpy()
        if weighted is not None:
            for terms in _terms(x, weighted.weights(x, y), batch_size):
                for total, batch_sum in zip(totals, weighted_sums(*terms)):
                    total += batch_sum.numpy()
        count += int(x.shape[0])
    if count == 0:
        raise ValueError("data holds no examples.")
    return [total / count for total in totals]


def mean_of_squared_batch_means(
    model: keras.Model,
    data,
    objective: Objective,
    batch_size: int,
    num_samples: int | None = None,
    key=None,
    check_targets: Callable | None = None,
) -> list[np.ndarray]:
    """(1/M) sum_b (∂ [(1/|b|) sum_{n in b} objective_n] / ∂w)² over the M mini-batches b of ``data``:
    consecutive examples, ``batch_size`` to a batch (a dataset's own batches are regrouped), the last one possibly
    smaller; every mini-batch counts once. ``objective(model, x, y)`` is the *sum* over the batch it is given."""
    weights = model.trainable_weights

    def build():
        @tf.function(reduce_retracing=True)
        def squared_mean_gradient(x, y):
            with tf.GradientTape() as tape:
                value = objective(model, x, y)
                value = value / tf.cast(tf.shape(x)[0], value.dtype)
            gradients = tape.gradient(value, weights)
            return [tf.zeros_like(w) if g is None else tf.square(tf.convert_to_tensor(g))
                    for g, w in zip(gradients, weights)]

        return squared_mean_gradient

    squared_mean_gradient = _cached(model, key, build)
    totals = [np.zeros(tuple(w.shape), dtype=np.float64) for w in weights]
    count = 0
    for x, y in rebatch(iterate_batches(data, batch_size=batch_size, num_samples=num_samples,
                                        check_targets=check_targets), batch_size):
        for total, square in zip(totals, squared_mean_gradient(x, y)):
            total += square.numpy()
        count += 1
    if count == 0:
        raise ValueError("data holds no examples.")
    return [total / count for total in totals]
