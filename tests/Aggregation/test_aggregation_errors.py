"""Bad input raises ValueError naming the problem and the valid choices."""

import keras
import numpy as np
import pytest

from Aggregation import rank_groups, replacement_values, restore_weights, threshold_model


@pytest.mark.parametrize(
    "keyword, bad, valid",
    [
        ("level", "units", ["weight", "unit", "filter", "layer"]),
        ("method", "median", ["mean", "min", "max", "sum", "l2"]),
        ("scope", "global", ["layer", "model", "tensor"]),
        ("parameters", "biases", ["all", "kernels", "no_normalization"]),
        ("order", "random", ["least", "most"]),
        ("replacement", "gaussian", ["noise", "zero"]),
    ],
)
def test_unknown_choice_names_it_and_the_valid_ones(model, tied, keyword, bad, valid):
    with pytest.raises(ValueError) as error:
        threshold_model(model, tied, 0.5, **{keyword: bad})
    message = str(error.value)
    assert repr(bad) in message and keyword in message
    assert all(repr(name) in message for name in valid)


def test_rank_groups_and_replacement_values_check_names_too(model, tied):
    with pytest.raises(ValueError, match="'channel'.*'unit'"):
        rank_groups(model, tied, "channel", "mean", "layer", "least", 0)
    with pytest.raises(ValueError, match="'uniform'.*'noise'"):
        replacement_values([np.ones(3)], "uniform", 0)


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan"), float("inf"), "0.5", None, True, [0.5]])
def test_bad_fraction(model, tied, fraction):
    with pytest.raises(ValueError, match=r"fraction .*\[0, 1\]"):
        threshold_model(model, tied, fraction)


def test_bad_fraction_in_masks(model, tied):
    ranking = rank_groups(model, tied, "weight", "mean", "layer", "least", 0)
    with pytest.raises(ValueError, match="fraction"):
        ranking.masks(1.01)


def test_wrong_number_of_importances(model, tied):
    with pytest.raises(ValueError, match="Expected 10 importances arrays.*got 9"):
        threshold_model(model, tied[:-1], 0.5)
    with pytest.raises(ValueError, match="one array per model.trainable_weights"):
        threshold_model(model, np.ones(3), 0.5)


def test_wrong_importance_shape_names_the_variable_and_expected_shape(model, tied):
    tied[4] = np.ones((4, 12))
    with pytest.raises(ValueError) as error:
        threshold_model(model, tied, 0.5)
    message = str(error.value)
    assert "importances[4]" in message and "nested/inner_a/kernel" in message
    assert "(4, 12)" in message and "(12, 4)" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_importances_name_the_tensor(model, tied, bad):
    tied[3] = tied[3].copy()
    tied[3][1] = bad
    with pytest.raises(ValueError, match=r"importances\[3\] \(bn/beta\) contains NaN or infinite"):
        threshold_model(model, tied, 0.5)


def test_model_without_trainable_weights():
    empty = keras.Sequential([keras.Input((3,)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="no trainable weights"):
        threshold_model(empty, [], 0.5)
    frozen = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    frozen.trainable = False
    with pytest.raises(ValueError, match="no trainable weights"):
        rank_groups(frozen, [], "weight", "mean", "layer", "least", 0)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_bad_seed(model, tied, seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        threshold_model(model, tied, 0.5, seed=seed)


def test_restore_weights_checks_count_and_shapes(model):
    weights = [np.array(v.numpy()) for v in model.trainable_weights]
    with pytest.raises(ValueError, match="Expected 10 weights arrays"):
        restore_weights(model, weights[:3])
    weights[0] = weights[0].reshape(-1)
    with pytest.raises(ValueError, match=r"weights\[0\].*conv/kernel.*\(3, 3, 2, 3\)"):
        restore_weights(model, weights)
