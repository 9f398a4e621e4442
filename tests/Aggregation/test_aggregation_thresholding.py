"""threshold_model, replacement values, apply_masks, get/restore_weights."""

import keras
import numpy as np
import pytest

import Aggregation
from Aggregation import apply_masks, get_weights, rank_groups, replacement_values, restore_weights, threshold_model


def all_weights(model):
    return [np.array(v.numpy()) for v in model.weights]


def non_trainable(model):
    return [np.array(v.numpy()) for v in model.non_trainable_weights]


@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("replacement", Aggregation.REPLACEMENTS)
def test_fraction_zero_changes_nothing(model, distinct, level, replacement):
    before = all_weights(model)
    result = threshold_model(model, distinct, 0.0, level=level, scope="model", replacement=replacement)
    assert result.num_removed == 0 and result.fraction_removed == 0.0
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, all_weights(model)))


@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("scope", Aggregation.SCOPES)
def test_fraction_one_with_zero_replacement_zeroes_every_trainable_weight(model, distinct, level, scope):
    statistics = non_trainable(model)
    assert len(statistics) == 2  # BN moving mean and variance
    result = threshold_model(model, distinct, 1.0, level=level, scope=scope, order="most", replacement="zero")
    assert result.num_removed == result.num_parameters == 152 and result.fraction_removed == 1.0
    assert all(not np.any(w) for w in get_weights(model))
    assert all(np.array_equal(a, b) for a, b in zip(statistics, non_trainable(model)))


def test_fraction_one_with_noise_has_a_tenth_of_the_original_std(make_dense_model):
    rng = np.random.default_rng(0)
    kernel = rng.normal(0.0, 2.0, size=(40, 50))
    bias = rng.normal(1.0, 0.5, size=50)
    model = make_dense_model(40, 50, kernel, bias)
    original = get_weights(model)
    importances = [np.ones_like(w, dtype=float) for w in original]
    threshold_model(model, importances, 1.0, level="unit", replacement="noise", seed=4)
    replaced = get_weights(model)
    kernel_ratio = replaced[0].std() / original[0].std()
    assert 0.09 < kernel_ratio < 0.11
    assert abs(replaced[0].mean()) < 0.02 * original[0].std()
    assert 0.07 < replaced[1].std() / original[1].std() < 0.13
    assert not np.any(replaced[0] == original[0])


def test_noise_of_a_constant_tensor_is_zero():
    values = replacement_values([np.full((4, 3), 2.5, np.float32), np.zeros(3, np.float32)], "noise", 0)
    assert all(not v.any() for v in values)
    assert values[0].dtype == np.float32


def test_replacement_values_reproducible_per_seed(model):
    weights = get_weights(model)
    first, again, other = (replacement_values(weights, "noise", s) for s in (0, 0, 1))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])
    assert [v.shape for v in first] == [w.shape for w in weights]
    assert all(v.dtype == w.dtype for v, w in zip(first, weights))


@pytest.mark.parametrize("level", Aggregation.LEVELS)
def test_replaced_weights_take_replacement_values_and_kept_ones_stay(model, distinct, level):
    original = get_weights(model)
    statistics = non_trainable(model)
    result = threshold_model(model, distinct, 0.4, level=level, scope="layer", replacement="noise", seed=7)
    values = replacement_values(original, "noise", 7)
    for new, old, value, mask in zip(get_weights(model), original, values, result.masks):
        assert np.array_equal(new[mask], value[mask])
        assert np.array_equal(new[~mask], old[~mask])
    assert result.num_removed == sum(int(m.sum()) for m in result.masks)
    assert result.fraction_removed == result.num_removed / 152 and result.num_parameters == 152
    assert all(np.array_equal(a, b) for a, b in zip(statistics, non_trainable(model)))


def test_threshold_model_equals_the_rank_once_path(model, distinct):
    original = get_weights(model)
    ranking = rank_groups(model, distinct, "unit", "l2", "model", "least", 3)
    values = replacement_values(original, "noise", 3)
    expected = {}
    for fraction in (0.9, 0.1, 0.5):  # any order: apply_masks depends only on its arguments
        apply_masks(model, original, values, ranking.masks(fraction))
        expected[fraction] = get_weights(model)
    for fraction, weights in expected.items():
        restore_weights(model, original)
        threshold_model(model, distinct, fraction, "unit", "l2", "model", "least", "noise", 3)
        assert all(np.array_equal(a, b) for a, b in zip(weights, get_weights(model)))


def test_restore_weights_restores_exactly(model, distinct):
    before = all_weights(model)
    snapshot = get_weights(model)
    threshold_model(model, distinct, 0.7, level="filter")
    assert not all(np.array_equal(a, b) for a, b in zip(snapshot, get_weights(model)))
    restore_weights(model, snapshot)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, all_weights(model)))


def test_get_weights_is_a_copy(model):
    snapshot = get_weights(model)
    saved = [w.copy() for w in snapshot]
    for variable in model.trainable_weights:
        variable.assign(np.zeros(tuple(variable.shape), np.float32))
    assert all(np.array_equal(a, b) for a, b in zip(snapshot, saved))


def test_frozen_layers_are_not_touched():
    inputs = keras.Input((3,))
    frozen = keras.layers.Dense(4, name="frozen")
    frozen.trainable = False
    model = keras.Model(inputs, keras.layers.Dense(2, name="free")(frozen(inputs)))
    frozen_before = [np.array(v.numpy()) for v in frozen.weights]
    importances = [np.ones(tuple(v.shape)) for v in model.trainable_weights]
    result = threshold_model(model, importances, 1.0, level="unit", replacement="zero")
    assert result.num_parameters == 4 * 2 + 2
    assert all(np.array_equal(a, np.array(v.numpy())) for a, v in zip(frozen_before, frozen.weights))
