"""The EWC penalty: equal to its hand computation, inside the compiled train step, updated without retracing."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from SequentialLearning import EWCModel, ewc_model

LAMBDA = 3.0


def _log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _cross_entropy(weights, x, y):
    kernel, bias = weights
    return float(-np.mean(_log_softmax(x @ kernel + bias)[np.arange(len(y)), y]))


def _set(model, weights):
    for variable, value in zip(model.trainable_weights, weights):
        variable.assign(np.asarray(value, np.float32))


def _hand_omega():
    return [np.linspace(0.0, 2.0, 12).reshape(3, 4), np.array([0.5, 0.0, 1.5, 3.0])]


def test_wrapper_shares_the_models_variables(tiny_model):
    model = ewc_model(tiny_model)
    assert isinstance(model, EWCModel)
    assert [id(w) for w in model.trainable_weights] == [id(w) for w in tiny_model.trainable_weights]
    assert not model.run_eagerly
    assert len(model.weights) == len(tiny_model.weights) + 1  # the output mask only, no penalty variables


def test_loss_equals_base_loss_plus_penalty_by_hand(tiny_model, tiny_data):
    x, y = tiny_data
    model = ewc_model(tiny_model, ewc_lambda=LAMBDA, normalization="none")
    anchor = [np.array(w) for w in model.trainable_weights]
    omega = _hand_omega()
    model.consolidate(omega)
    moved = [anchor[0] + 0.3 * np.sign(np.arange(12).reshape(3, 4) % 3 - 1), anchor[1] - 0.25]
    _set(model, moved)

    expected_penalty = LAMBDA / 2 * sum(np.sum(o * (w - a) ** 2) for o, w, a in zip(omega, moved, anchor))
    expected = _cross_entropy(moved, x, y) + expected_penalty
    computed = float(model.compute_loss(x=x, y=y, y_pred=model(x, training=False), training=True))
    np.testing.assert_allclose(float(model.penalty()), expected_penalty, rtol=1e-5)
    np.testing.assert_allclose(computed, expected, rtol=1e-5)


def test_separate_terms_are_exact_and_online_decays(tiny_model):
    omega_1 = _hand_omega()
    omega_2 = [np.full((3, 4), 0.7), np.array([2.0, 1.0, 0.0, 0.25])]
    anchor_1 = [np.array(w) for w in tiny_model.trainable_weights]
    anchor_2 = [anchor_1[0] + 0.5, anchor_1[1] - 1.0]
    now = [anchor_1[0] - 0.2, anchor_1[1] + 0.4]
    for variant, decay in (("separate", 1.0), ("online", 0.5)):
        model = ewc_model(tiny_model, ewc_lambda=LAMBDA, normalization="none", variant=variant, decay=decay)
        _set(model, anchor_1)
        model.consolidate(omega_1)
        _set(model, anchor_2)
        model.consolidate(omega_2)
        _set(model, now)
        if variant == "separate":
            terms = [np.sum(o * (w - a) ** 2) for omega, anchor in ((omega_1, anchor_1), (omega_2, anchor_2))
                     for o, w, a in zip(omega, now, anchor)]
        else:
            terms = [np.sum((decay * o1 + o2) * (w - a) ** 2)
                     for o1, o2, w, a in zip(omega_1, omega_2, now, anchor_2)]
        np.testing.assert_allclose(float(model.penalty()), LAMBDA / 2 * sum(terms), rtol=1e-5, err_msg=variant)
        assert model.num_consolidated_tasks == 2


def test_penalty_gradient_is_in_the_compiled_train_step_and_lambda_changes_without_retracing(tiny_model, tiny_data):
    x, y = tiny_data
    model = ewc_model(tiny_model, ewc_lambda=LAMBDA, normalization="none", optimizer=keras.optimizers.SGD(0.1))
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    omega = _hand_omega()
    anchor = [np.array(w) for w in model.trainable_weights]
    model.consolidate(omega)
    _set(model, [anchor[0] + 0.4, anchor[1] - 0.3])

    def expected_step(ewc_lambda):
        before = [np.array(w) for w in model.trainable_weights]
        with tf.GradientTape() as tape:
            base = cross_entropy(y, model(x, training=True))
        gradients = tape.gradient(base, model.trainable_weights)
        return [w - 0.1 * (np.array(g) + ewc_lambda * o * (w - a))
                for w, g, o, a in zip(before, gradients, omega, anchor)]

    for ewc_lambda in (LAMBDA, 40.0):
        model.ewc_lambda = ewc_lambda
        want = expected_step(ewc_lambda)
        model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
        if ewc_lambda == LAMBDA:
            train_function = model.train_function
        for got, expected in zip(model.trainable_weights, want):
            np.testing.assert_allclose(np.array(got), expected, rtol=1e-5, atol=1e-6)
    assert model.train_function is train_function
    assert not model.run_eagerly


def test_invalid_settings_are_refused(tiny_model):
    with pytest.raises(ValueError, match="valid"):
        ewc_model(tiny_model, variant="weekly")
    with pytest.raises(ValueError, match="valid"):
        ewc_model(tiny_model, normalization="softmax")
    model = ewc_model(tiny_model)
    with pytest.raises(ValueError, match=">= 0"):
        model.ewc_lambda = -1.0
    with pytest.raises(ValueError, match="one array per"):
        model.consolidate([np.ones((3, 4))])
