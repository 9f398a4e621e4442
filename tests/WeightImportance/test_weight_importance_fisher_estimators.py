"""The Fisher's estimators and label distributions against NumPy hand computations on a two-layer network.

The hand model: a = x W1 + b1, h = tanh(a), z = h W2 + b2 (the logits, or f for the Gaussian). For any
r = ∂ s / ∂z of a scalar s of the outputs, backpropagation by hand gives ∂s/∂W2 = h ⊗ r, ∂s/∂b2 = r,
δ = (1 - h²) ⊙ (W2 r), ∂s/∂W1 = x ⊗ δ, ∂s/∂b1 = δ. The scores: r = e_k - p for log softmax(z)_k, r = t - p for
the Bernoulli log-likelihood of outputs t with p = sigmoid(z), r = e_j for f_j. Every expectation over labels is
taken by enumerating the labels (all K classes; all 2^J binary output vectors), from the definition
F = E_t[(∂ log p(t | x) / ∂w)²], independently of the implementation's reductions. The hidden layer makes the
binary cross terms matter: W1 moves every output.
"""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from WeightImportance import get_measure

NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS = 3, 5, 4


def network(loss, activation=None, outputs=NUM_OUTPUTS, seed=0):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((NUM_INPUTS,)), keras.layers.Dense(NUM_HIDDEN, activation="tanh"),
                              keras.layers.Dense(outputs, activation=activation)])
    for variable in model.trainable_weights:
        variable.assign(rng.normal(size=tuple(variable.shape)).astype(np.float32))
    model.compile(loss=loss)
    return model


def inputs(n=23, seed=2):
    return np.random.default_rng(seed).normal(size=(n, NUM_INPUTS)).astype(np.float32)


def forward(model, x):
    W1, b1, W2, b2 = (np.array(v, np.float64) for v in model.trainable_weights)
    h = np.tanh(x.astype(np.float64) @ W1 + b1)
    return h, h @ W2 + b2


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradients(model, x, r):
    """Per-example [∂s/∂W1, ∂s/∂b1, ∂s/∂W2, ∂s/∂b2] for r = ∂s/∂z, shape [N, *weight]."""
    W2 = np.array(model.trainable_weights[2], np.float64)
    h, _ = forward(model, x)
    delta = (1 - h**2) * (r @ W2.T)
    return [x.astype(np.float64)[:, :, None] * delta[:, None, :], delta, h[:, :, None] * r[:, None, :], r]


def expected_square(model, x, residuals_and_probabilities):
    """(1/N) sum_n sum_t P_n(t) (∂ log p(t | x_n) / ∂w)² for [(r_t, P(t)) ...], r_t: [N, outputs], P(t): [N]."""
    totals = [0.0] * 4
    for r, probability in residuals_and_probabilities:
        for i, g in enumerate(gradients(model, x, r)):
            totals[i] = totals[i] + np.mean(probability.reshape(-1, *[1] * (g.ndim - 1)) * g**2, 0)
    return totals


def categorical_fisher(model, x, q):
    """Under class probabilities q [N, K]: sum over the K classes."""
    p = softmax(forward(model, x)[1])
    eye = np.eye(q.shape[1])
    return expected_square(model, x, [(eye[k] - p, q[:, k]) for k in range(q.shape[1])])


def bernoulli_fisher(model, x, y):
    """Under independent t_j ~ Bernoulli(y_j): sum over all 2^J output vectors t."""
    p = sigmoid(forward(model, x)[1])
    terms = []
    for t in itertools.product([0.0, 1.0], repeat=y.shape[1]):
        t = np.array(t)
        terms.append((t - p, np.prod(np.where(t == 1, y, 1 - y), axis=1)))
    return expected_square(model, x, terms)


def assert_close(got, want, rtol=2e-4, atol=1e-7):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# -- "data" with label rows: the Fisher under q --------------------------------------------------------------------
@pytest.mark.parametrize("from_logits", [True, False])
def test_soft_label_rows_give_the_fisher_under_q(from_logits):
    model = network(keras.losses.CategoricalCrossentropy(from_logits=from_logits),
                    None if from_logits else "softmax")
    x = inputs()
    q = np.random.default_rng(4).dirichlet(np.ones(NUM_OUTPUTS), size=len(x)).astype(np.float32)
    got = get_measure("fisher", batch_size=8).compute(model, (x, q))
    assert_close(got, categorical_fisher(model, x, q.astype(np.float64)))


def test_rows_equal_to_the_models_own_prediction_give_the_exact_fisher_not_zero():
    model = network(keras.losses.CategoricalCrossentropy(from_logits=True))
    x = inputs()
    p = softmax(forward(model, x)[1])
    # The square of the expected score, (sum_k p_k ∂ log p_k / ∂w)², is 0 here for every weight: its residual
    # sum_k p_k (e_k - p) is 0.
    assert np.allclose((p[:, :, None] * (np.eye(NUM_OUTPUTS) - p[:, None])).sum(1), 0, atol=1e-12)
    want = categorical_fisher(model, x, p)
    got = get_measure("fisher", batch_size=8).compute(model, (x, p.astype(np.float32)))
    assert_close(got, want)
    assert all(np.all(g > 1e-4 * np.max(g)) for g in got)  # not 0 anywhere
    assert_close(get_measure("fisher", labels="exact").compute(model, (x, np.zeros(len(x), np.int64))), want)


def test_one_hot_rows_cost_one_gradient_and_equal_class_ids():
    sparse = network(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rows = network(keras.losses.CategoricalCrossentropy(from_logits=True))
    x = inputs()
    y = np.random.default_rng(5).integers(0, NUM_OUTPUTS, size=len(x))
    from_ids = get_measure("fisher", batch_size=8).compute(sparse, (x, y))
    from_rows = get_measure("fisher", batch_size=8).compute(rows, (x, np.eye(NUM_OUTPUTS, dtype=np.float32)[y]))
    for a, b in zip(from_rows, from_ids):
        np.testing.assert_array_equal(a, b)  # the same gradients, exactly
    assert_close(from_ids, categorical_fisher(sparse, x, np.eye(NUM_OUTPUTS)[y]))


def test_rows_that_are_not_distributions_are_refused():
    model = network(keras.losses.CategoricalCrossentropy(from_logits=True))
    x = inputs()
    q = np.full((len(x), NUM_OUTPUTS), 0.25, np.float32)
    q[[2, 7]] = 0.5
    with pytest.raises(ValueError, match=r"sum_k q_k = 1\); rows \[2, 7\] of a batch sum to \[2\.0, 2\.0\]"):
        get_measure("fisher").compute(model, (x, q))


# -- "data" with binary targets: the Fisher under independent Bernoulli(y_j) ----------------------------------------
@pytest.mark.parametrize("from_logits", [True, False])
def test_soft_binary_targets_give_the_bernoulli_fisher_with_its_cross_terms(from_logits):
    model = network(keras.losses.BinaryCrossentropy(from_logits=from_logits), None if from_logits else "sigmoid",
                    outputs=3)
    x = inputs()
    y = np.random.default_rng(6).uniform(size=(len(x), 3))
    y[:5] = np.round(y[:5])  # some hard targets among the soft ones
    y = y.astype(np.float32)
    want = bernoulli_fisher(model, x, y.astype(np.float64))
    got = get_measure("fisher", batch_size=8).compute(model, (x, y))
    assert_close(got, want)
    # Without the cross terms (outputs taken one at a time) the hidden layer's Fisher would differ.
    p = sigmoid(forward(model, x)[1])
    eye = np.eye(3)
    separate = expected_square(model, x, [(eye[j] * (t - p), np.where(t == 1, y[:, j], 1 - y[:, j]))
                                          for j in range(3) for t in (0.0, 1.0)])
    assert not np.allclose(separate[0], want[0], rtol=1e-2)


def test_a_single_soft_binary_output_is_y_d1_squared_plus_one_minus_y_d0_squared():
    model = network(keras.losses.BinaryCrossentropy(from_logits=True), outputs=1)
    x = inputs()
    y = np.random.default_rng(7).uniform(size=len(x)).astype(np.float32)
    p = sigmoid(forward(model, x)[1])
    want = expected_square(model, x, [(1 - p, y.astype(np.float64)), (-p, 1 - y.astype(np.float64))])
    assert_close(get_measure("fisher", batch_size=8).compute(model, (x, y)), want)


# -- "exact": the expectation over the model's own distribution ----------------------------------------------------
@pytest.mark.parametrize("loss, targets", [
    (keras.losses.SparseCategoricalCrossentropy(from_logits=True), "ids"),
    (keras.losses.CategoricalCrossentropy(from_logits=True), "rows"),
])
def test_exact_categorical_fisher_sums_over_all_classes_and_reads_no_labels(loss, targets):
    model = network(loss)
    x = inputs()
    ids = np.random.default_rng(8).integers(0, NUM_OUTPUTS, size=len(x))
    y = ids if targets == "ids" else np.eye(NUM_OUTPUTS, dtype=np.float32)[ids]
    want = categorical_fisher(model, x, softmax(forward(model, x)[1]))
    assert_close(get_measure("fisher", labels="exact", batch_size=8).compute(model, (x, y)), want)
    other = np.zeros_like(y)
    assert_close(get_measure("fisher", labels="exact", batch_size=5).compute(model, (x, other)), want)


@pytest.mark.parametrize("from_logits", [True, False])
def test_exact_binary_fisher_is_the_bernoulli_fisher_under_p(from_logits):
    model = network(keras.losses.BinaryCrossentropy(from_logits=from_logits), None if from_logits else "sigmoid",
                    outputs=3)
    x = inputs()
    want = bernoulli_fisher(model, x, sigmoid(forward(model, x)[1]))
    got = get_measure("fisher", labels="exact", batch_size=8).compute(model, (x, np.zeros((len(x), 3))))
    assert_close(got, want)


def test_exact_gaussian_fisher_is_the_diagonal_of_jacobian_transpose_jacobian():
    model = network("mse", outputs=2)
    x = inputs()
    eye = np.eye(2)
    want = expected_square(model, x, [(np.broadcast_to(eye[j], (len(x), 2)), np.ones(len(x))) for j in range(2)])
    got = get_measure("fisher", labels="exact", batch_size=8).compute(model, (x, np.zeros((len(x), 2))))
    assert_close(got, want)
    # The sampled true Fisher, y ~ N(f(x), I), converges to it.
    many = np.repeat(x[:3], 1000, axis=0)
    sampled = get_measure("fisher", labels="sampled", batch_size=500).compute(model, (many, np.zeros((3000, 2))))
    exact = get_measure("fisher", labels="exact", batch_size=500).compute(model, (many, np.zeros((3000, 2))))
    for s, e in zip(sampled, exact):
        np.testing.assert_allclose(s, e, rtol=0.15, atol=0.02 * np.max(e))


# -- "batched": squared mini-batch mean gradients ------------------------------------------------------------------
def test_batched_fisher_squares_each_mini_batch_mean_gradient():
    model = network(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = inputs(n=37)
    y = np.random.default_rng(9).integers(0, NUM_OUTPUTS, size=len(x))
    p = softmax(forward(model, x)[1])
    per_example = gradients(model, x, np.eye(NUM_OUTPUTS)[y] - p)
    batches = [slice(start, start + 8) for start in range(0, 37, 8)]  # 8, 8, 8, 8, 5: each counts once
    want = [np.mean([np.mean(g[b], 0) ** 2 for b in batches], 0) for g in per_example]
    got = get_measure("fisher", labels="batched", minibatch_size=8).compute(model, (x, y))
    assert_close(got, want)
    # A dataset's own batches are regrouped into mini-batches of minibatch_size.
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
    assert_close(get_measure("fisher", labels="batched", minibatch_size=8).compute(model, dataset), want)
    # Mini-batches of one are the empirical Fisher; of 32 (the default) the mean of 2 batches.
    empirical = get_measure("fisher").compute(model, (x, y))
    assert_close(get_measure("fisher", labels="batched", minibatch_size=1).compute(model, (x, y)), empirical,
                 rtol=1e-5)
    default = [np.mean([np.mean(g[b], 0) ** 2 for b in (slice(0, 32), slice(32, 37))], 0) for g in per_example]
    assert_close(get_measure("fisher", labels="batched").compute(model, (x, y)), default)


def test_batched_fisher_with_soft_rows_differentiates_the_mean_cross_entropy():
    model = network(keras.losses.CategoricalCrossentropy(from_logits=True))
    x = inputs(n=12)
    q = np.random.default_rng(10).dirichlet(np.ones(NUM_OUTPUTS), size=len(x))
    p = softmax(forward(model, x)[1])
    per_example = gradients(model, x, q - p)  # ∂ sum_k q_k log p_k / ∂z = q - p for rows summing to 1
    want = [np.mean([np.mean(g[b], 0) ** 2 for b in (slice(0, 5), slice(5, 10), slice(10, 12))], 0)
            for g in per_example]
    got = get_measure("fisher", labels="batched", minibatch_size=5).compute(model, (x, q.astype(np.float32)))
    assert_close(got, want)


def test_estimator_options_are_checked():
    with pytest.raises(ValueError, match=r"Unknown labels 'all'.*\['data', 'sampled', 'exact', 'batched'\]"):
        get_measure("fisher", labels="all")
    with pytest.raises(ValueError, match="minibatch_size is the mini-batch size of labels='batched' only"):
        get_measure("fisher", minibatch_size=16)
    with pytest.raises(ValueError, match="minibatch_size must be a positive integer; got 0"):
        get_measure("fisher", labels="batched", minibatch_size=0)
