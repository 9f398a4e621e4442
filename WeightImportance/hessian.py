"""Gradient, Hessian-vector products and the Hessian diagonal of the model's mean loss over a data set.

    L(w) = (1/N) sum_n loss(y_n, f(x_n; w))

with ``loss`` the model's compiled loss, taken as a mean over each batch (Keras' default reduction), and the model
in inference mode (``training=False``). Batches are combined with weights n_b / N, so every quantity is that of
the mean loss over all N examples, whatever the batch size.

Hessian-vector products H v are computed by differentiating twice (back-over-back): the inner tape gives
g = dL/dw, the outer tape differentiates g . v. Several vectors are handled at once with ``tf.vectorized_map``
(the forward pass does not depend on v, so it is computed once); ``VECTORS_PER_CALL`` vectors at a time, so the
memory of one call is about that many times a batch's backward pass.

The Hessian diagonal has two estimators, both sums of v ⊙ (H v) over a set of vectors v:
- ``"exact"``: v runs over the P basis vectors e_i, so sum_i e_i ⊙ H e_i = diag(H) exactly, at the cost of P
  Hessian-vector products per batch. Refused above ``MAX_EXACT_PARAMETERS`` trainable parameters.
- ``"hutchinson"``: Hutchinson's estimator diag(H) ≈ (1/K) sum_k z_k ⊙ H z_k with K Rademacher vectors z_k
  (entries ±1 with probability 1/2; unbiased, with variance sum_{j≠i} H_ij^2 / K for entry i). The same z_k are
  used for every batch (drawn from ``seed``), so the estimate is that of the full-data Hessian.
- ``"auto"``: exact up to ``MAX_EXACT_PARAMETERS`` trainable parameters, Hutchinson above.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from WeightImportance._internal.data import iterate_batches
from WeightImportance._internal.likelihood import loss_likelihood, loss_objective, target_check

HESSIAN_METHODS = ("auto", "exact", "hutchinson")
MAX_EXACT_PARAMETERS = 2000
VECTORS_PER_CALL = 16
_ZERO = tf.UnconnectedGradients.ZERO


def _weighted_sum_over_batches(model, data, batch_function, num_samples, batch_size) -> list[np.ndarray]:
    """(1/N) sum_b n_b * batch_function(x_b, y_b), accumulated in float64."""
    totals = [np.zeros(tuple(w.shape), dtype=np.float64) for w in model.trainable_weights]
    count = 0
    check = target_check(model, loss_likelihood(model))
    for x, y in iterate_batches(data, batch_size=batch_size, num_samples=num_samples, check_targets=check):
        n = int(x.shape[0])
        for total, value in zip(totals, batch_function(x, y)):
            total += n * np.asarray(value, dtype=np.float64)
        count += n
    if count == 0:
        raise ValueError("data holds no examples.")
    return [total / count for total in totals]


def mean_loss_gradient(model, data, num_samples=None, batch_size=256) -> list[np.ndarray]:
    """g = dL/dw of the mean loss over the data, one array per trainable weight."""
    objective = loss_objective(model)
    weights = model.trainable_weights

    @tf.function(reduce_retracing=True)
    def gradient(x, y):
        with tf.GradientTape() as tape:
            loss = objective(model, x, y)
        return tape.gradient(loss, weights, unconnected_gradients=_ZERO)

    return _weighted_sum_over_batches(model, data, gradient, num_samples, batch_size)


def _hessian_vector_products(model, objective, x, y, vectors):
    """H_b v for a stack of vectors: ``vectors`` holds one [K, *shape] tensor per weight; returns the same form."""
    weights = model.trainable_weights

    def one(vector):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                loss = objective(model, x, y)
            grads = inner.gradient(loss, weights, unconnected_gradients=_ZERO)
            dot = tf.add_n([tf.reduce_sum(g * tf.cast(v, g.dtype)) for g, v in zip(grads, vector)])
        return outer.gradient(dot, weights, unconnected_gradients=_ZERO)

    return tf.vectorized_map(one, vectors)


def hessian_vector_product(model, data, vector, num_samples=None, batch_size=256) -> list[np.ndarray]:
    """H v for the Hessian H of the mean loss over the data; ``vector`` is one array per trainable weight."""
    objective = loss_objective(model)
    vector = [tf.convert_to_tensor(np.asarray(v)[None], dtype=w.dtype) for v, w in zip(vector, model.trainable_weights)]

    @tf.function(reduce_retracing=True)
    def product(x, y):
        return [h[0] for h in _hessian_vector_products(model, objective, x, y, vector)]

    return _weighted_sum_over_batches(model, data, product, num_samples, batch_size)


def num_parameters(model) -> int:
    return int(sum(np.prod(w.shape, dtype=np.int64) for w in model.trainable_weights))


def resolve_hessian_method(model, method: str) -> str:
    """"exact" or "hutchinson" for ``method`` in ``HESSIAN_METHODS``; a clear error when exact is too large."""
    if method not in HESSIAN_METHODS:
        raise ValueError(f"Unknown hessian {method!r}; valid: {list(HESSIAN_METHODS)}.")
    size = num_parameters(model)
    if method == "auto":
        return "exact" if size <= MAX_EXACT_PARAMETERS else "hutchinson"
    if method == "exact" and size > MAX_EXACT_PARAMETERS:
        raise ValueError(
            f"hessian='exact' takes one Hessian-vector product per parameter, and this model has {size} trainable "
            f"parameters (limit {MAX_EXACT_PARAMETERS}). Use hessian='hutchinson' (or 'auto')."
        )
    return method


def hessian_diagonal(model, data, method="auto", num_probes=100, seed=0, num_samples=None,
                     batch_size=256) -> list[np.ndarray]:
    """diag(H) of the mean loss over the data, exactly or by Hutchinson's estimator (see the module docstring)."""
    method = resolve_hessian_method(model, method)
    if not isinstance(num_probes, (int, np.integer)) or num_probes < 1:
        raise ValueError(f"num_probes must be a positive integer, got {num_probes!r}.")
    objective = loss_objective(model)
    weights = model.trainable_weights
    shapes = [tuple(w.shape) for w in weights]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    offsets = np.cumsum([0] + sizes[:-1]).tolist()
    total = sum(sizes)

    num_vectors = total if method == "exact" else int(num_probes)
    per_call = min(VECTORS_PER_CALL, num_vectors)  # one trace: every call takes the same number of vectors
    num_calls = -(-num_vectors // per_call)

    def basis_vectors(call):
        # e_i for i = call * per_call + k; indices past the last parameter give zero vectors.
        indices = call * per_call + tf.range(per_call)
        return [tf.reshape(tf.one_hot(indices - offset, size, dtype=w.dtype), (per_call, *shape))
                for offset, size, shape, w in zip(offsets, sizes, shapes, weights)]

    def rademacher_vectors(call):
        # z_k for k = call * per_call + j, the same for every batch; probes past num_probes are zeroed.
        valid = tf.cast(call * per_call + tf.range(per_call) < num_vectors, tf.int32)
        vectors = []
        for t, (shape, w) in enumerate(zip(shapes, weights)):
            signs = 2 * tf.random.stateless_uniform((per_call, *shape), tf.stack([seed, call * len(shapes) + t]),
                                                    maxval=2, dtype=tf.int32) - 1
            vectors.append(tf.cast(signs * tf.reshape(valid, (per_call,) + (1,) * len(shape)), w.dtype))
        return vectors

    make_vectors = basis_vectors if method == "exact" else rademacher_vectors

    @tf.function(reduce_retracing=True)
    def probe_sum(x, y, call):
        vectors = make_vectors(call)
        products = _hessian_vector_products(model, objective, x, y, vectors)
        return [tf.reduce_sum(v * h, axis=0) for v, h in zip(vectors, products)]

    def batch_diagonal(x, y):
        sums = [np.zeros(shape, np.float64) for shape in shapes]
        for call in range(num_calls):
            for s, value in zip(sums, probe_sum(x, y, tf.constant(call, tf.int32))):
                s += value.numpy()
        return sums

    diagonal = _weighted_sum_over_batches(model, data, batch_diagonal, num_samples, batch_size)
    if method == "hutchinson":
        diagonal = [d / num_vectors for d in diagonal]
    return diagonal
