"""Derivative-based measures against hand computations: gradient_magnitude, taylor, mas, snip (gradients) and
obd, grasp (Hessian), plus Hutchinson's estimator against the exact Hessian diagonal.

The hand model is softmax regression, logits = x~ θ with x~ = [x, 1] and θ = [W; b]. With p_n = softmax(logits_n)
and r_n = p_n - e_{y_n}, the gradient of example n's cross-entropy is x~_n ⊗ r_n, that of ||logits_n||^2 is
2 x~_n ⊗ logits_n, and the Hessian of the mean cross-entropy is H = (1/N) sum_n (x~_n x~_n^T) ⊗ A_n with
A_n = diag(p_n) - p_n p_n^T: H_(i,k),(i,k) = mean_n x~_ni^2 p_nk (1 - p_nk) and
(H V)_ik = mean_n x~_ni (A_n V^T x~_n)_k.
For the tiny CNN the reference is the exact Hessian from nested gradient tapes.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from WeightImportance import get_measure, hessian


def softmax_regression(seed=0, inputs=3, classes=4):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(classes)])
    model.layers[0].kernel.assign(rng.normal(size=(inputs, classes)).astype(np.float32))
    model.layers[0].bias.assign(rng.normal(size=(classes,)).astype(np.float32))
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def regression_data(seed=2, n=29, inputs=3, classes=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, inputs)).astype(np.float32), rng.integers(0, classes, size=n)


def hand_parts(model, x, y):
    """(theta = [W; b], x~ = [x, 1], logits, r = p - e_y), in float64."""
    W, b = (np.array(v, np.float64) for v in model.trainable_weights)
    theta = np.vstack([W, b[None]])
    x1 = np.hstack([x.astype(np.float64), np.ones((len(x), 1))])
    logits = x1 @ theta
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return theta, x1, logits, p - np.eye(theta.shape[1])[y]


def split(theta_shaped):
    return [theta_shaped[:-1], theta_shaped[-1]]


def per_example_gradients(x1, residual):
    return x1[:, :, None] * residual[:, None, :]          # [N, d + 1, K]


def assert_close(got, want, rtol=2e-4, atol=1e-7):
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_gradient_magnitude_is_the_mean_absolute_per_example_gradient():
    model = softmax_regression()
    x, y = regression_data()
    theta, x1, _, r = hand_parts(model, x, y)
    want = split(np.abs(per_example_gradients(x1, r)).mean(0))
    assert_close(get_measure("gradient_magnitude", batch_size=8).compute(model, (x, y)), want)


def test_taylor_is_the_mean_squared_per_example_product():
    model = softmax_regression()
    x, y = regression_data()
    theta, x1, _, r = hand_parts(model, x, y)
    want = split(np.mean((per_example_gradients(x1, r) * theta) ** 2, 0))
    assert_close(get_measure("taylor", batch_size=8).compute(model, (x, y)), want)


def test_mas_differentiates_the_squared_logit_norm_and_ignores_labels():
    model = softmax_regression()
    x, y = regression_data()
    _, x1, logits, _ = hand_parts(model, x, y)
    want = split(np.abs(2 * x1[:, :, None] * logits[:, None, :]).mean(0))
    got = get_measure("mas", batch_size=8).compute(model, (x, y))
    assert_close(got, want)
    other_labels = get_measure("mas").compute(model, (x, (y + 1) % 4))
    for a, b in zip(got, other_labels):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_snip_uses_the_gradient_of_the_mean_loss():
    model = softmax_regression()
    x, y = regression_data()
    theta, x1, _, r = hand_parts(model, x, y)
    want = split(np.abs(theta * per_example_gradients(x1, r).mean(0)))
    # Batches of unequal size (29 = 3 * 8 + 5) are weighted by their size.
    assert_close(get_measure("snip", batch_size=8).compute(model, (x, y)), want)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(10)
    assert_close(get_measure("snip", num_samples=17).compute(model, dataset),
                 split(np.abs(theta * per_example_gradients(x1[:17], r[:17]).mean(0))))


@pytest.mark.parametrize("name", ["gradient_magnitude", "taylor", "mas"])
def test_per_example_measures_equal_an_eager_loop_in_inference_mode(name, tiny_cnn, tiny_data):
    """Vectorized per-example gradients through BatchNormalization (moving statistics) and Dropout (off)."""
    x, y = tiny_data
    weights = tiny_cnn.trainable_weights
    totals = [np.zeros(tuple(w.shape)) for w in weights]
    for n in range(len(x)):
        with tf.GradientTape() as tape:
            outputs = tiny_cnn(x[n : n + 1], training=False)
            value = tf.reduce_sum(outputs**2) if name == "mas" else tiny_cnn.loss(y[n : n + 1], outputs)
        for total, g, w in zip(totals, tape.gradient(value, weights), weights):
            g, w = g.numpy(), np.array(w)
            total += (g * w) ** 2 if name == "taylor" else np.abs(g)
    got = get_measure(name, batch_size=6).compute(tiny_cnn, tiny_data)
    assert_close(got, [t / len(x) for t in totals], rtol=1e-4, atol=1e-7)


def hand_probabilities(model, x, y):
    theta, x1, _, r = hand_parts(model, x, y)
    return theta, x1, r + np.eye(theta.shape[1])[y], r


def hand_hessian_times(x1, p, V):
    u = x1 @ V                                             # [N, K] = V^T x~_n
    Au = p * u - p * np.sum(p * u, 1, keepdims=True)
    return np.mean(x1[:, :, None] * Au[:, None, :], 0)


def nested_tape_hessian(model, x, y):
    """Full Hessian of the mean loss (inference mode), column by column from nested tapes, and the gradient."""
    weights = model.trainable_weights

    @tf.function
    def gradient_and_column(basis):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                loss = model.loss(y, model(x, training=False))
            gradient = tf.concat([tf.reshape(g, [-1]) for g in inner.gradient(loss, weights)], 0)
            projection = tf.reduce_sum(gradient * basis)
        column = tf.concat([tf.reshape(h, [-1]) for h in outer.gradient(projection, weights)], 0)
        return gradient, column

    size = sum(int(np.prod(w.shape)) for w in weights)
    columns = [gradient_and_column(tf.one_hot(i, size)) for i in range(size)]
    H = np.stack([c.numpy() for _, c in columns], 1).astype(np.float64)
    return H, columns[0][0].numpy().astype(np.float64)


def unflatten(flat, model):
    parts, start = [], 0
    for w in model.trainable_weights:
        size = int(np.prod(w.shape))
        parts.append(flat[start : start + size].reshape(tuple(w.shape)))
        start += size
    return parts


def flat_weights(model):
    return np.concatenate([np.array(w, np.float64).ravel() for w in model.trainable_weights])


def test_obd_exact_matches_the_hand_hessian_diagonal():
    model = softmax_regression()
    x, y = regression_data()
    theta, x1, p, _ = hand_probabilities(model, x, y)
    diagonal = np.mean(x1[:, :, None] ** 2 * (p * (1 - p))[:, None, :], 0)
    got = get_measure("obd", hessian="exact", batch_size=8).compute(model, (x, y))
    assert_close(got, split(0.5 * diagonal * theta**2), rtol=1e-4)


def test_grasp_is_w_times_hessian_gradient_product_by_hand():
    model = softmax_regression()
    x, y = regression_data()
    theta, x1, p, r = hand_probabilities(model, x, y)
    gradient = per_example_gradients(x1, r).mean(0)
    want = split(theta * hand_hessian_times(x1, p, gradient))
    assert_close(get_measure("grasp", batch_size=8).compute(model, (x, y)), want, rtol=1e-4, atol=1e-8)


def test_obd_and_grasp_match_nested_tapes_on_the_tiny_cnn(tiny_cnn, tiny_data):
    x, y = tiny_data
    H, g = nested_tape_hessian(tiny_cnn, x, y)
    w = flat_weights(tiny_cnn)
    obd = get_measure("obd", hessian="auto", batch_size=10).compute(tiny_cnn, tiny_data)
    assert_close(obd, unflatten(0.5 * np.diag(H) * w**2, tiny_cnn), rtol=1e-4, atol=1e-7)
    grasp = get_measure("grasp", batch_size=10).compute(tiny_cnn, tiny_data)
    assert_close(grasp, unflatten(w * (H @ g), tiny_cnn), rtol=1e-4, atol=1e-7)


def test_grasp_sign_keeps_the_weights_whose_removal_cuts_gradient_flow():
    """Removing w changes the gradient norm by about -2 w ⊙ Hg = -2 importance: the most important weight's removal
    reduces ||g||^2 most, the least important one's increases it (GraSP removes the latter first)."""
    model = softmax_regression()
    x, y = regression_data()
    importance = np.concatenate([a.ravel() for a in get_measure("grasp").compute(model, (x, y))])

    def flow():
        with tf.GradientTape() as tape:
            loss = model.loss(y, model(x, training=False))
        return sum(float(tf.reduce_sum(g**2)) for g in tape.gradient(loss, model.trainable_weights))

    base, originals = flow(), [np.array(v) for v in model.trainable_weights]
    changes = []
    for index in (int(np.argmax(importance)), int(np.argmin(importance))):
        t, i = (0, index) if index < originals[0].size else (1, index - originals[0].size)
        removed = originals[t].copy()
        removed.reshape(-1)[i] = 0
        model.trainable_weights[t].assign(removed)
        changes.append(flow() - base)
        model.trainable_weights[t].assign(originals[t])
    assert changes[0] < 0 < changes[1]


def test_hutchinson_estimates_the_exact_diagonal():
    model = softmax_regression(seed=3, inputs=2, classes=3)
    x, y = regression_data(seed=4, n=16, inputs=2, classes=3)
    exact = hessian.hessian_diagonal(model, (x, y), "exact")
    estimate = hessian.hessian_diagonal(model, (x, y), "hutchinson", num_probes=1500, seed=1)
    H, _ = nested_tape_hessian(model, x, y)
    assert_close(exact, unflatten(np.diag(H), model), rtol=1e-4, atol=1e-7)
    # The standard deviation of entry i is sqrt(sum_{j != i} H_ij^2 / K): allow five of them.
    spread = unflatten(np.sqrt((np.sum(H**2, 1) - np.diag(H) ** 2) / 1500), model)
    for e, h, s in zip(estimate, exact, spread):
        assert np.all(np.abs(e - h) <= 5 * s + 1e-7)
    again = hessian.hessian_diagonal(model, (x, y), "hutchinson", num_probes=1500, seed=1)
    for a, b in zip(estimate, again):
        np.testing.assert_array_equal(a, b)
    obd = get_measure("obd", hessian="hutchinson", num_probes=1500, seed=1).compute(model, (x, y))
    for o, e, w in zip(obd, estimate, model.trainable_weights):
        np.testing.assert_allclose(o, 0.5 * e * np.array(w, np.float64) ** 2, rtol=1e-6)


def test_hessian_options_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="Unknown hessian 'full'.*auto.*exact.*hutchinson"):
        get_measure("obd", hessian="full")
    with pytest.raises(ValueError, match="num_probes"):
        get_measure("obd", num_probes=0)
    model = softmax_regression()
    monkeypatch.setattr(hessian, "MAX_EXACT_PARAMETERS", 10)
    with pytest.raises(ValueError, match="16 trainable parameters.*limit 10.*hutchinson"):
        get_measure("obd", hessian="exact").compute(model, regression_data())
    assert hessian.resolve_hessian_method(model, "auto") == "hutchinson"
