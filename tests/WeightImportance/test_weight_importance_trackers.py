"""The training-time trackers count exactly on hand-made sequences of weight updates."""

import keras
import numpy as np
import pytest

from WeightImportance import get_measure


def _one_weight_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, use_bias=False)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _replay(measure, model, sequence, start):
    """Simulate training: the weights take the values of `sequence`, one per batch, starting from `start`."""
    model.trainable_weights[0].assign(np.array([start], np.float32))
    (callback,) = measure.callbacks()
    callback.set_model(model)
    callback.on_train_begin()
    for batch, values in enumerate(sequence):
        model.trainable_weights[0].assign(np.array([values], np.float32))
        callback.on_train_batch_end(batch)
    return measure.compute(model)[0][0]


# Three weights, each its own column; the first step from `START` is counted.
START = [1.0, 0.5, -1.0]
SEQUENCE = [
    [-1.0, 0.7, -0.5],
    [2.0, 0.7, 0.0],
    [3.0, 0.2, 0.5],
    [-4.0, 0.9, 0.4],
]


def test_sign_flips_counts_every_flip_including_the_first_step():
    # column 0 flips at steps 1, 2 and 4; column 1 never; column 2 goes through exactly 0 (not a flip).
    importance = _replay(get_measure("sign_flips"), _one_weight_model(), SEQUENCE, START)
    np.testing.assert_allclose(importance, 1 / (1 + np.array([3, 0, 0])))


def test_momentum_changes_counts_direction_reversals():
    # column 0 steps: -, +, +, -  -> 2 reversals
    # column 1 steps: +, 0, -, +  -> the zero step keeps the last direction: 2 reversals
    # column 2 steps: +, +, +, -  -> 1 reversal
    importance = _replay(get_measure("momentum_changes"), _one_weight_model(), SEQUENCE, START)
    np.testing.assert_allclose(importance, 1 / (1 + np.array([2, 2, 1])))


def test_weight_change_sums_absolute_steps_not_net_displacement():
    # column 0: 2 + 3 + 1 + 7 = 13 ; column 1: 0.2 + 0 + 0.5 + 0.7 = 1.4 ; column 2: 0.5 + 0.5 + 0.5 + 0.1 = 1.6
    importance = _replay(get_measure("weight_change"), _one_weight_model(), SEQUENCE, START)
    np.testing.assert_allclose(importance, 1 / (1 + np.array([13.0, 1.4, 1.6])), rtol=1e-6)


def test_counting_continues_across_fit_calls():
    model = _one_weight_model()
    model.trainable_weights[0].assign(np.array([START], np.float32))
    measure = get_measure("sign_flips")
    (callback,) = measure.callbacks()
    callback.set_model(model)
    for chunk in ([SEQUENCE[0], SEQUENCE[1]], [SEQUENCE[2], SEQUENCE[3]]):
        callback.on_train_begin()
        for batch, values in enumerate(chunk):
            model.trainable_weights[0].assign(np.array([values], np.float32))
            callback.on_train_batch_end(batch)
    # Two fits of two batches count what one fit of four does: column 0 flips at steps 1, 2 and 4.
    np.testing.assert_allclose(measure.get_state()["flips"][0][0], [3, 0, 0])


def test_trackers_count_real_fit_batches():
    model = _one_weight_model()
    measure = get_measure("weight_change")
    x = np.ones((12, 1), np.float32)
    model.fit(x, x.repeat(3, 1), batch_size=4, epochs=2, verbose=0, callbacks=measure.callbacks())
    assert measure.tracker.num_updates == 6
    assert np.all(measure.compute(model)[0] < 1.0)


def test_steps_per_execution_above_one_is_refused():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=4)
    x = np.ones((8, 1), np.float32)
    with pytest.raises(ValueError, match="steps_per_execution=4"):
        model.fit(x, x, batch_size=2, verbose=0, callbacks=get_measure("sign_flips").callbacks())


def test_a_tracker_refuses_a_model_of_another_shape():
    measure = get_measure("sign_flips")
    _replay(measure, _one_weight_model(), SEQUENCE, START)
    other = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, use_bias=False)])
    with pytest.raises(ValueError, match="weight shapes"):
        measure.compute(other)
