"""The likelihoods of the usual Keras losses, as the Fisher and the loss-based measures read them: categorical with
class ids or label rows, independent Bernoulli outputs, strings as objects, and clear errors for what cannot be read.

The binary hand computation: with p = sigmoid(z), z = x W + b, d/dz_j [y_j log p_j + (1 - y_j) log(1 - p_j)] =
y_j - p_j, so the per-example gradient is x_i (y_j - p_j) for W_ij and y_j - p_j for b_j. For label rows q the
Fisher under q is sum_k q_k of the squared gradients with residual e_k - p.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from WeightImportance import get_measure


def dense_model(loss, outputs=4, activation=None, seed=0):
    """One hand-set Dense layer on 3 inputs, compiled with ``loss``."""
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(outputs, activation=activation)])
    model.layers[0].kernel.assign(rng.normal(size=(3, outputs)).astype(np.float32))
    model.layers[0].bias.assign(rng.normal(size=(outputs,)).astype(np.float32))
    model.compile(loss=loss)
    return model


def inputs(n=31, seed=2):
    return np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)


def class_ids(n=31, classes=4, seed=3):
    return np.random.default_rng(seed).integers(0, classes, size=n)


def hand_fisher(model, x, residual):
    """(1/N) sum_n of the squared gradients x_n ⊗ r_n (kernel) and r_n (bias), for d log p / dz = r."""
    return [np.mean((x[:, :, None].astype(np.float64) * residual[:, None, :]) ** 2, 0), np.mean(residual**2, 0)]


def probabilities(model, x, activation):
    z = x.astype(np.float64) @ np.array(model.layers[0].kernel, np.float64) + np.array(model.layers[0].bias)
    if activation == "sigmoid":
        return 1 / (1 + np.exp(-z))
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def assert_close(got, want, rtol=2e-4, atol=1e-7):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def assert_equal(got, want):
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


# -- categorical: label rows against class ids ----------------------------------------------------------------------
@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("name, options", [("fisher", {}), ("fisher", {"labels": "sampled", "seed": 5}),
                                           ("taylor", {})])
def test_one_hot_categorical_equals_sparse_categorical(name, options, from_logits):
    activation = None if from_logits else "softmax"
    sparse = dense_model(keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), activation=activation)
    one_hot = dense_model(keras.losses.CategoricalCrossentropy(from_logits=from_logits), activation=activation)
    x, y = inputs(), class_ids()
    want = get_measure(name, batch_size=8, **options).compute(sparse, (x, y))
    got = get_measure(name, batch_size=8, **options).compute(one_hot, (x, np.eye(4, dtype=np.float32)[y]))
    if options.get("labels") == "sampled":
        assert_equal(got, want)  # the label is drawn from the softmax: the same computation, whatever the loss
    else:
        assert_close(got, want, rtol=1e-5)


def test_soft_labels_give_the_fisher_under_q():
    # sum_k q_k (∂ log p_k / ∂θ)², with residual e_k - p for class k; not (∂ sum_k q_k log p_k / ∂θ)².
    model = dense_model(keras.losses.CategoricalCrossentropy(from_logits=True))
    x = inputs()
    q = np.random.default_rng(4).dirichlet(np.ones(4), size=len(x)).astype(np.float32)
    p = probabilities(model, x, "softmax")
    per_class = [hand_fisher(model, x, np.sqrt(q[:, [k]]) * (np.eye(4)[k] - p))
                 for k in range(4)]
    want = [sum(parts[i] for parts in per_class) for i in range(2)]
    assert_close(get_measure("fisher", batch_size=8).compute(model, (x, q)), want)


# -- binary: independent Bernoulli outputs --------------------------------------------------------------------------
@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_empirical_fisher_matches_hand_computation(outputs, from_logits):
    activation = None if from_logits else "sigmoid"
    model = dense_model(keras.losses.BinaryCrossentropy(from_logits=from_logits), outputs, activation)
    x = inputs()
    y = np.random.default_rng(5).integers(0, 2, size=(len(x), outputs)).astype(np.float32)
    labels = y[:, 0] if outputs == 1 else y  # one sigmoid output takes labels of shape (N,) or (N, 1)
    want = hand_fisher(model, x, y - probabilities(model, x, "sigmoid"))
    assert_close(get_measure("fisher", batch_size=8).compute(model, (x, labels)), want)


@pytest.mark.parametrize("outputs", [1, 3])
@pytest.mark.parametrize("from_logits", [True, False])
def test_binary_true_fisher_draws_each_output_from_its_bernoulli(outputs, from_logits):
    activation = None if from_logits else "sigmoid"
    model = dense_model(keras.losses.BinaryCrossentropy(from_logits=from_logits), outputs, activation)
    x = inputs()
    got = get_measure("fisher", labels="sampled", seed=7).compute(model, (x, np.zeros(len(x))))
    # The same draw by hand: y_j = [u_j < p_j], u uniform from the stateless seed (7, batch 0).
    p = model(x).numpy()
    p = tf.sigmoid(p).numpy() if from_logits else np.clip(p, keras.config.epsilon(), 1 - keras.config.epsilon())
    y = (tf.random.stateless_uniform(p.shape, seed=[7, 0], dtype=tf.float32).numpy() < p).astype(np.float64)
    assert_close(got, hand_fisher(model, x, y - probabilities(model, x, "sigmoid")))


def test_binary_true_fisher_of_the_bias_converges_to_p_times_one_minus_p():
    model = dense_model(keras.losses.BinaryCrossentropy(from_logits=True), 3)
    x = np.repeat(inputs(1), 4000, axis=0)
    bias = get_measure("fisher", labels="sampled", batch_size=500).compute(model, (x, np.zeros((4000, 3))))[1]
    p = probabilities(model, x[:1], "sigmoid")[0]
    np.testing.assert_allclose(bias, p * (1 - p), atol=0.01)


# -- strings are the loss objects Keras makes of them ---------------------------------------------------------------
@pytest.mark.parametrize("string, loss, activation, targets", [
    ("sparse_categorical_crossentropy", keras.losses.SparseCategoricalCrossentropy(), "softmax", "ids"),
    ("categorical_crossentropy", keras.losses.CategoricalCrossentropy(), "softmax", "one_hot"),
    ("binary_crossentropy", keras.losses.BinaryCrossentropy(), "sigmoid", "bits"),
    ("mse", keras.losses.MeanSquaredError(), None, "real"),
    ("mean_squared_error", keras.losses.MeanSquaredError(), None, "real"),
])
@pytest.mark.parametrize("name", ["fisher", "snip"])
def test_string_losses_equal_loss_objects(name, string, loss, activation, targets):
    x = inputs()
    rng = np.random.default_rng(6)
    y = {"ids": class_ids(), "one_hot": np.eye(4, dtype=np.float32)[class_ids()],
         "bits": rng.integers(0, 2, size=(len(x), 4)).astype(np.float32),
         "real": rng.normal(size=(len(x), 4)).astype(np.float32)}[targets]
    from_string = get_measure(name, batch_size=8).compute(dense_model(string, activation=activation), (x, y))
    from_object = get_measure(name, batch_size=8).compute(dense_model(loss, activation=activation), (x, y))
    assert_equal(from_string, from_object)


# -- what cannot be read --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss, named", [(keras.losses.Huber(), "Huber"), ("mae", "'mae'"),
                                         (keras.losses.KLDivergence(), "KLDivergence")])
def test_an_unsupported_loss_is_named_with_the_supported_ones(loss, named):
    model = dense_model(loss)
    with pytest.raises(ValueError, match=rf"{named}.*SparseCategoricalCrossentropy, CategoricalCrossentropy, "
                                         r"BinaryCrossentropy, MeanSquaredError"):
        get_measure("fisher").compute(model, (inputs(), class_ids()))
    # The loss-based measures call the loss itself, whatever it is.
    taylor = get_measure("taylor").compute(model, (inputs(), np.zeros((31, 4), np.float32)))
    assert all(np.all(np.isfinite(t)) for t in taylor)


def test_label_smoothing_is_refused_by_the_likelihood():
    model = dense_model(keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1))
    with pytest.raises(ValueError, match="label_smoothing"):
        get_measure("fisher").compute(model, (inputs(), np.eye(4, dtype=np.float32)[class_ids()]))


@pytest.mark.parametrize("name", ["fisher", "taylor", "gradient_magnitude", "snip", "obd"])
def test_out_of_range_class_ids_are_named_with_the_output_width(name):
    model = dense_model(keras.losses.SparseCategoricalCrossentropy(from_logits=True), outputs=10)
    y = class_ids(classes=10)
    y[[3, 8]] = [12, -1]
    with pytest.raises(ValueError, match=r"Labels \[-1, 12\] are out of range for the model's 10 outputs"):
        get_measure(name).compute(model, (inputs(), y))


def test_label_formats_that_do_not_fit_the_loss_are_explained():
    x, y = inputs(), class_ids()
    sparse = dense_model(keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="one integer class id per example"):
        get_measure("fisher").compute(sparse, (x, np.eye(4, dtype=np.float32)[y]))
    one_hot = dense_model(keras.losses.CategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="compile with sparse_categorical_crossentropy"):
        get_measure("fisher").compute(one_hot, (x, y))
    with pytest.raises(ValueError, match=r"one row of 4 class probabilities.*shape \(31, 3\)"):
        get_measure("taylor").compute(one_hot, (x, np.eye(3, dtype=np.float32)[y % 3]))
    binary = dense_model(keras.losses.BinaryCrossentropy(from_logits=True), outputs=1)
    with pytest.raises(ValueError, match=r"Labels \[2\.0\] are out of range for binary_crossentropy"):
        get_measure("fisher").compute(binary, (x, np.where(y == 3, 2, y % 2).astype(np.float32)))
