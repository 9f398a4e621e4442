"""Vectorized per-example gradients.

Several measures average a function of the gradient of *each example's* objective (the Fisher averages squared
per-example gradients; averaging first and squaring after would give a different, wrong quantity). A Python loop
over examples is slow, so the gradients of a whole batch are computed at once with ``tf.vectorized_map``, which
turns the single-example gradient into batched operations.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from WeightImportance._internal.data import iterate_batches

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


def _summed_gradients(model: keras.Model, objective: Objective, reduce: Reduction, key) -> Callable:
    """A compiled ``(x, y) -> [sum_n reduce(g_n, w) for each weight]``; cached per model when ``key`` is given."""
    variables = tuple(id(w) for w in model.trainable_weights)
    cache = _compiled.setdefault(model, {}) if key is not None else {}
    if key in cache and cache[key][0] == variables:
        return cache[key][1]
    gradients = per_example_gradients(model, objective)
    weights = model.trainable_weights

    @tf.function(reduce_retracing=True)
    def sums(x, y):
        return [tf.reduce_sum(reduce(g, tf.convert_to_tensor(w)[None]), axis=0)
                for g, w in zip(gradients.python_function(x, y), weights)]

    if key is not None:
        cache[key] = (variables, sums)
    return sums


def mean_over_examples(
    model: keras.Model,
    data,
    objective: Objective,
    reduce: Reduction,
    num_samples: int | None = None,
    batch_size: int = 64,
    transform_batch: Callable | None = None,
    key=None,
    check_targets: Callable | None = None,
) -> list[np.ndarray]:
    """(1/N) sum_n reduce(g_n, w) over the examples of ``data``, with g_n the per-example gradients.

    ``transform_batch(x, y) -> (x, y)`` may rewrite each batch first (e.g. replace labels by sampled ones).
    ``key`` names the (objective, reduce) pair so that the compiled function is reused when the same measure is
    computed again on the same model; leave it None for a one-off objective. ``check_targets(x, y)`` checks each
    batch's targets first (see ``_internal.likelihood.target_check``).
    """
    sums = _summed_gradients(model, objective, reduce, key)
    totals = [np.zeros(tuple(w.shape), dtype=np.float64) for w in model.trainable_weights]
    count = 0
    for x, y in iterate_batches(data, batch_size=batch_size, num_samples=num_samples,
                                check_targets=check_targets):
        if transform_batch is not None:
            x, y = transform_batch(x, y)
        for total, batch_sum in zip(totals, sums(x, y)):
            total += batch_sum.numpy()
        count += int(x.shape[0])
    if count == 0:
        raise ValueError("data holds no examples.")
    return [total / count for total in totals]
