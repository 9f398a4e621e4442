"""Data-free measures (synflow, lamp) against hand computations.

SynFlow's hand model is Dense(4) -> BatchNormalization -> ReLU -> Dense(2) on an all-ones input of width 3, every
variable replaced by its absolute value (BatchNormalization in inference mode with |moving_mean|):
z = |W1|^T 1 + |b1|, a = relu(|γ| (z - |μ|) / s + |β|) with s = sqrt(σ^2 + ε), R = sum(|W2|^T a + |b2|).
"""

import keras
import numpy as np
import pytest

from WeightImportance import get_measure
from WeightImportance.lamp import lamp_scores


def flow_model():
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(),
                              keras.layers.ReLU(), keras.layers.Dense(2)])
    for variable in model.trainable_weights:
        variable.assign(rng.normal(size=tuple(variable.shape)).astype(np.float32))
    bn = model.layers[1]
    bn.moving_mean.assign(np.array([0.5, -30.0, 1.0, -0.2], np.float32))   # |μ_1| = 30: unit 1 inactive
    bn.moving_variance.assign(np.array([1.5, 0.5, 2.0, 1.0], np.float32))
    return model


def hand_synflow(model, masks):
    """SynFlow scores | |θ| ⊙ dR/d|θ| | of the masked linearized network (order: W1, b1, γ, β, W2, b2)."""
    W1, b1, gamma, beta, W2, b2 = (np.abs(np.array(v, np.float64)) * m for v, m in zip(model.trainable_weights, masks))
    bn = model.layers[1]
    mu, s = np.abs(np.array(bn.moving_mean, np.float64)), np.sqrt(np.array(bn.moving_variance, np.float64) + bn.epsilon)
    z = W1.sum(0) + b1
    normalized = (z - mu) / s
    active = (gamma * normalized + beta) > 0
    a = np.maximum(gamma * normalized + beta, 0)
    d_pre = W2.sum(1) * active                    # dR / d(pre-activation)
    d_z = d_pre * gamma / s
    grads = [np.broadcast_to(d_z, W1.shape), d_z, d_pre * normalized, d_pre, np.broadcast_to(a[:, None], W2.shape),
             np.ones_like(b2)]
    return [np.abs(t * g) for t, g in zip((W1, b1, gamma, beta, W2, b2), grads)]


def hand_iterative_synflow(model, num_iterations, final_density):
    """The documented ranking: rounds survived + score / (2 max score) of the round that removed the weight."""
    shapes = [tuple(v.shape) for v in model.trainable_weights]
    total = sum(int(np.prod(s)) for s in shapes)
    alive, importance = np.ones(total, bool), np.zeros(total)
    for k in range(1, num_iterations + 1):
        masks = np.split(alive.astype(float), np.cumsum([int(np.prod(s)) for s in shapes])[:-1])
        flat = np.concatenate([s.ravel() for s in hand_synflow(model, [m.reshape(s) for m, s in zip(masks, shapes)])])
        scaled = flat / (2 * flat[alive].max())
        keep = int(np.floor(final_density ** (k / num_iterations) * total + 0.5))
        candidates = np.flatnonzero(alive)
        removed = candidates[np.argsort(flat[candidates], kind="stable")[: candidates.size - keep]]
        importance[removed] = k - 1 + scaled[removed]
        alive[removed] = False
    importance[alive] = num_iterations + scaled[alive]
    return importance


def flat(arrays):
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def test_single_shot_synflow_matches_the_hand_linearized_network():
    model = flow_model()
    before = [np.array(v) for v in model.weights]
    got = get_measure("synflow", num_iterations=1).compute(model)
    want = hand_synflow(model, [np.ones(tuple(v.shape)) for v in model.trainable_weights])
    assert np.all(got[0][:, 1] == 0) and got[2][1] == 0 and np.all(got[0][:, [0, 2, 3]] > 0)  # no flow through unit 1
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
    for b, a in zip(before, model.weights):
        np.testing.assert_array_equal(b, np.array(a))


def test_iterative_synflow_ranks_by_removal_round():
    model = flow_model()
    got = flat(get_measure("synflow", num_iterations=4, final_density=0.25).compute(model))
    np.testing.assert_allclose(got, hand_iterative_synflow(model, 4, 0.25), rtol=1e-10, atol=1e-12)
    total = got.size
    assert np.sum(got >= 4) == int(np.floor(0.25 * total + 0.5))          # the survivors of every round
    removed_first = int(round(total - 0.25 ** 0.25 * total))
    assert np.sum(got < 1) == removed_first


def test_synflow_float32_and_float64_agree_and_the_model_is_untouched(tiny_cnn):
    before = [np.array(v) for v in tiny_cnn.weights]
    single = get_measure("synflow", num_iterations=1, dtype="float32").compute(tiny_cnn)
    double = get_measure("synflow", num_iterations=1).compute(tiny_cnn)
    for s, d in zip(single, double):
        np.testing.assert_allclose(s, d, rtol=1e-5, atol=1e-30)
    for b, a in zip(before, tiny_cnn.weights):
        np.testing.assert_array_equal(b, np.array(a))


def test_synflow_runs_in_double_precision_where_single_overflows():
    # dR/dW1 is a product of three layers of 4 x 1e15: about 1e47, beyond float32.
    model = keras.Sequential([keras.Input((4,)), *[keras.layers.Dense(4) for _ in range(4)]])
    for variable in model.trainable_weights:
        variable.assign(np.full(tuple(variable.shape), 1e15, np.float32))
    scores = get_measure("synflow", num_iterations=1).compute(model)
    assert all(np.all(np.isfinite(s)) for s in scores) and scores[0].max() > 1e60
    with pytest.raises(FloatingPointError, match="use dtype='float64'"):
        get_measure("synflow", num_iterations=1, dtype="float32").compute(model)


def test_synflow_options_are_checked():
    with pytest.raises(ValueError, match="num_iterations"):
        get_measure("synflow", num_iterations=0)
    with pytest.raises(ValueError, match="final_density"):
        get_measure("synflow", final_density=0.0)
    with pytest.raises(ValueError, match="Unknown dtype 'float16'.*float64.*float32"):
        get_measure("synflow", dtype="float16")


def brute_force_lamp(weight):
    squares = np.square(np.asarray(weight, np.float64)).ravel()
    denominators = np.array([s + squares[squares > s].sum() for s in squares])
    return np.divide(squares, denominators, out=np.zeros_like(squares), where=denominators > 0).reshape(weight.shape)


def test_lamp_by_hand_with_ties_and_zeros():
    # squares 0.25, 1, 0, 4, 0.25, 0.25: sorted 0, .25, .25, .25, 1, 4 -> each tie scores as the last of them would,
    # 0.25 / (0.25 + 1 + 4); tied maxima all score 1.
    weight = np.array([[0.5, -1.0, 0.0], [2.0, 0.5, -0.5]])
    want = np.array([[0.25 / 5.25, 1 / 5, 0.0], [1.0, 0.25 / 5.25, 0.25 / 5.25]])
    np.testing.assert_allclose(lamp_scores(weight), want)
    np.testing.assert_array_equal(lamp_scores(np.zeros((2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(lamp_scores(np.array([-2.0, 2.0, 1.0])), [1.0, 1.0, 1 / 9])
    rng = np.random.default_rng(0)
    tied = rng.integers(-3, 4, size=(5, 7)).astype(np.float32)
    np.testing.assert_allclose(lamp_scores(tied), brute_force_lamp(tied))


def test_lamp_is_per_tensor(tiny_cnn):
    scores = get_measure("lamp").compute(tiny_cnn)
    for score, weight in zip(scores, tiny_cnn.trainable_weights):
        np.testing.assert_allclose(score, brute_force_lamp(np.array(weight)), rtol=1e-12)
        assert score.max() == (1.0 if np.any(np.array(weight)) else 0.0)  # zero biases score 0
