"""Training-time measures that need the step's gradient (si, movement) and w_0 (si, magnitude_increase), against
a hand-computed run: linear regression y = x W + b with mean squared error, whose batch gradient is
dL/dW = 2 / (B K) x^T (x W + b - y) (B examples, K outputs)."""

import keras
import numpy as np
import pytest

from WeightImportance import get_measure

LEARNING_RATE = 0.1
BATCH = 4


def linear_model(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].kernel.assign(np.array([[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], np.float32))
    model.layers[0].bias.assign(np.array([0.05, -0.1], np.float32))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype(np.float32)
    y = (x @ np.array([[1.0, 0.0], [-1.0, 2.0], [0.5, 0.5]]) + 0.3).astype(np.float32)
    return x, y


def hand_gradient(W, b, x, y):
    residual = x @ W + b - y
    scale = 2.0 / residual.size
    return scale * x.T @ residual, scale * residual.sum(0)


def hand_sgd_run(num_epochs):
    """Weights before every step, the step's gradient, and the final weights of plain SGD, in float64."""
    x, y = (a.astype(np.float64) for a in data())
    model = linear_model("sgd")
    W, b = (np.array(v, np.float64) for v in model.trainable_weights)
    before, gradients = [], []
    for _ in range(num_epochs):
        for start in range(0, len(x), BATCH):
            g = hand_gradient(W, b, x[start : start + BATCH], y[start : start + BATCH])
            before.append((W, b))
            gradients.append(g)
            W, b = W - LEARNING_RATE * g[0], b - LEARNING_RATE * g[1]
    return before, gradients, (W, b)


def fit(model, callbacks, epochs=1):
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)


def test_si_movement_and_magnitude_increase_together_match_a_hand_sgd_run():
    model = linear_model(keras.optimizers.SGD(LEARNING_RATE))
    si, movement, increase = get_measure("si", damping=0.1), get_measure("movement"), get_measure("magnitude_increase")
    fit(model, si.callbacks() + movement.callbacks() + increase.callbacks(), epochs=2)

    before, gradients, final = hand_sgd_run(2)
    after = before[1:] + [final]
    omega = [-sum(g[i] * (a[i] - w[i]) for g, w, a in zip(gradients, before, after)) for i in range(2)]
    score = [-sum(g[i] * w[i] for g, w in zip(gradients, before)) for i in range(2)]
    for got, want in zip(model.trainable_weights, final):
        np.testing.assert_allclose(np.array(got), want, rtol=1e-5, atol=1e-6)
    w0, wT = before[0], [np.array(v, np.float64) for v in model.trainable_weights]
    for i in range(2):
        np.testing.assert_allclose(si.get_state()["omega"][i], omega[i], rtol=1e-4, atol=1e-7)
        # With plain SGD, g_t = -Δw_t / lr, so ω = sum_t Δw_t^2 / lr.
        sgd_identity = sum((a[i] - w[i]) ** 2 for w, a in zip(before, after)) / LEARNING_RATE
        np.testing.assert_allclose(omega[i], sgd_identity, rtol=1e-10)
        np.testing.assert_allclose(si.get_state()["initial"][i], w0[i], rtol=1e-7)
    for got, o, w, i0 in zip(si.compute(model), omega, wT, w0):
        np.testing.assert_allclose(got, o / ((w - i0) ** 2 + 0.1), rtol=1e-4, atol=1e-7)
    for got, s in zip(movement.compute(model), score):
        np.testing.assert_allclose(got, s, rtol=1e-4, atol=1e-7)
    for got, w, i0 in zip(increase.compute(model), wT, w0):
        np.testing.assert_allclose(got, np.abs(w) - np.abs(i0), atol=1e-7)


class WeightsBeforeEveryBatch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_train_batch_begin(self, batch, logs=None):
        self.weights.append([np.array(v, np.float64) for v in self.model.trainable_weights])


def test_the_recorded_gradient_is_exact_for_adam_where_weight_changes_are_not():
    model = linear_model(keras.optimizers.Adam(0.05))
    si, movement, recorder = get_measure("si"), get_measure("movement"), WeightsBeforeEveryBatch()
    fit(model, si.callbacks() + movement.callbacks() + [recorder])
    x, y = (a.astype(np.float64) for a in data())
    steps = recorder.weights + [[np.array(v, np.float64) for v in model.trainable_weights]]
    omega, score = [0.0, 0.0], [0.0, 0.0]
    for t, start in enumerate(range(0, len(x), BATCH)):
        g = hand_gradient(*steps[t], x[start : start + BATCH], y[start : start + BATCH])
        for i in range(2):
            omega[i] = omega[i] - g[i] * (steps[t + 1][i] - steps[t][i])
            score[i] = score[i] - g[i] * steps[t][i]
    for i in range(2):
        np.testing.assert_allclose(si.get_state()["omega"][i], omega[i], rtol=1e-4, atol=1e-8)
        np.testing.assert_allclose(movement.get_state()["score"][i], score[i], rtol=1e-4, atol=1e-7)


def test_accumulation_resumes_from_state_and_ignores_fits_without_the_callbacks():
    before, gradients, final = hand_sgd_run(1)
    one_epoch = -sum(g[0] * (a[0] - w[0]) for g, w, a in zip(gradients, before, before[1:] + [final]))
    model = linear_model(keras.optimizers.SGD(LEARNING_RATE))
    first = get_measure("si")
    fit(model, first.callbacks())
    state = first.get_state()
    # The fit unwrapped the optimizer and dropped the traced step that recorded gradients.
    assert "apply" not in vars(model.optimizer) and model.train_function is None
    fit(model, [])
    for a, b in zip(state["omega"] + state["initial"], first.get_state()["omega"] + first.get_state()["initial"]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(state["omega"][0], one_epoch, rtol=1e-4, atol=1e-7)
    # A new measure resumed from the state keeps w_0 and adds to ω: the same epoch again doubles it.
    resumed = get_measure("si")
    resumed.set_state(state)
    fit(linear_model(keras.optimizers.SGD(LEARNING_RATE)), resumed.callbacks())
    np.testing.assert_array_equal(resumed.get_state()["initial"][0], before[0][0].astype(np.float32))
    np.testing.assert_allclose(resumed.get_state()["omega"][0], 2 * one_epoch, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", ["si", "movement", "magnitude_increase"])
def test_training_measure_without_training_says_what_to_do(name):
    with pytest.raises(RuntimeError, match=r"callbacks\(\) to model.fit"):
        get_measure(name).compute(linear_model("sgd"))


def test_loss_scaling_and_gradient_accumulation_are_refused():
    scaled = linear_model(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)))
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        fit(scaled, get_measure("movement").callbacks())
    accumulating = linear_model(keras.optimizers.SGD(0.1, gradient_accumulation_steps=2))
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        fit(accumulating, get_measure("si").callbacks())


def test_damping_must_be_positive():
    with pytest.raises(ValueError, match="damping"):
        get_measure("si", damping=0.0)
