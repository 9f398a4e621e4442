"""The Fisher diagonal against hand computations: per example, log-softmax of logits, both estimators."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from WeightImportance import get_measure


def _softmax_regression(seed=0, from_logits=True):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation=None if from_logits else "softmax")])
    model.layers[0].kernel.assign(rng.normal(size=(3, 4)).astype(np.float32))
    model.layers[0].bias.assign(rng.normal(size=(4,)).astype(np.float32))
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
    return model


def _hand_fisher(model, x, y):
    """(1/N) sum_n (d log softmax(x_n W + b)[y_n] / dθ)^2 with d/dW = x_n ⊗ (e_y - p_n), d/db = e_y - p_n."""
    W, b = (np.array(v, np.float64) for v in model.trainable_weights)
    logits = x.astype(np.float64) @ W + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    residual = np.eye(W.shape[1])[y] - p
    grad_W = x[:, :, None] * residual[:, None, :]
    return [np.mean(grad_W**2, 0), np.mean(residual**2, 0)]


@pytest.mark.parametrize("from_logits", [True, False])
def test_empirical_fisher_matches_hand_computation(from_logits):
    model = _softmax_regression(from_logits=from_logits)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(37, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=37)
    fisher = get_measure("fisher", batch_size=8).compute(model, (x, y))
    for got, want in zip(fisher, _hand_fisher(model, x, y)):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-7)


def test_fisher_is_per_example_not_squared_batch_gradient():
    model = _softmax_regression()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=32)
    fisher = get_measure("fisher").compute(model, (x, y))
    with tf.GradientTape() as tape:
        mean_log_likelihood = -model.loss(y, model(x))
    squared_batch = [g.numpy() ** 2 for g in tape.gradient(mean_log_likelihood, model.trainable_weights)]
    assert all(np.sum(f) > 2 * np.sum(s) for f, s in zip(fisher, squared_batch))


def test_num_samples_and_datasets_use_the_requested_examples():
    model = _softmax_regression()
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=40)
    want = _hand_fisher(model, x[:25], y[:25])
    from_arrays = get_measure("fisher", num_samples=25, batch_size=7).compute(model, (x, y))
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
    from_dataset = get_measure("fisher", num_samples=25).compute(model, dataset)
    for a, b, w in zip(from_arrays, from_dataset, want):
        np.testing.assert_allclose(a, w, rtol=2e-4, atol=1e-7)
        np.testing.assert_allclose(b, w, rtol=2e-4, atol=1e-7)


def test_true_fisher_uses_labels_sampled_from_the_model():
    model = _softmax_regression()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y_data = rng.integers(0, 4, size=16)
    sampled = get_measure("fisher", labels="sampled", seed=7).compute(model, (x, y_data))
    # The same draw by hand: one stateless categorical sample per example from log_softmax(logits).
    labels = tf.random.stateless_categorical(tf.nn.log_softmax(model(x)), 1, seed=[7, 0], dtype=tf.int64)[:, 0]
    for got, want in zip(sampled, _hand_fisher(model, x, labels.numpy())):
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-7)
    again = get_measure("fisher", labels="sampled", seed=7).compute(model, (x, y_data))
    for a, b in zip(sampled, again):
        np.testing.assert_array_equal(a, b)


def test_true_fisher_of_the_bias_converges_to_p_times_one_minus_p():
    # E_{y~p}[(e_y - p)_k^2] = p_k (1 - p_k): the expected Fisher of the bias, independent of any data label.
    model = _softmax_regression()
    x = np.repeat(np.array([[0.3, -0.5, 0.8]], np.float32), 4000, axis=0)
    y = np.zeros(4000, np.int64)
    fisher_bias = get_measure("fisher", labels="sampled", batch_size=500).compute(model, (x, y))[1]
    p = tf.nn.softmax(model(x[:1]))[0].numpy()
    np.testing.assert_allclose(fisher_bias, p * (1 - p), atol=0.01)


def test_gaussian_fisher_for_regression():
    # log p(y|x) = -(y - w x)^2 / 2  =>  d/dw = (y - w x) x, F = mean((y - w x)^2 x^2)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.layers[0].kernel.assign([[0.7]])
    model.compile(loss="mse")
    x = np.linspace(-1, 1, 9, dtype=np.float32)[:, None]
    y = (2 * x[:, 0] + 0.1).astype(np.float32)
    fisher = get_measure("fisher").compute(model, (x, y))[0]
    want = np.mean((y - 0.7 * x[:, 0]) ** 2 * x[:, 0] ** 2)
    np.testing.assert_allclose(fisher[0, 0], want, rtol=1e-5)


def test_vectorized_equals_an_eager_per_example_loop(tiny_cnn, tiny_data):
    """The vectorized Fisher equals the plain loop over examples (inference mode, log-softmax of logits)."""
    x, y = tiny_data
    fisher = get_measure("fisher", batch_size=6).compute(tiny_cnn, (x, y))
    totals = [np.zeros(tuple(w.shape)) for w in tiny_cnn.trainable_weights]
    for n in range(len(x)):
        with tf.GradientTape() as tape:
            log_p = tf.nn.log_softmax(tiny_cnn(x[n : n + 1], training=False))[0, y[n]]
        for total, g in zip(totals, tape.gradient(log_p, tiny_cnn.trainable_weights)):
            total += g.numpy() ** 2
    for got, total in zip(fisher, totals):
        np.testing.assert_allclose(got, total / len(x), rtol=1e-4, atol=1e-8)
