"""Which tensors are thresholded: parameters="all" (today's results), "kernels", "no_normalization"."""

import hashlib

import keras
import numpy as np
import pytest

import Aggregation
from Aggregation import (
    ThresholdResult, get_weights, rank_groups, replacement_values, selected_tensors, threshold_model,
)

FRACTIONS = np.linspace(0.0, 1.0, 41)
KERNELS = [True, False, False, False, True, False, True, False, True, False]  # conv, inner_a, inner_b, head
NO_NORMALIZATION = [True, True, False, False, True, True, True, True, True, True]  # all but bn gamma, beta
KERNEL_SIZES = {0: 54, 4: 48, 6: 20, 8: 10}


def all_weights(model):
    return [np.array(v.numpy()) for v in model.weights]


def removed_groups(ranking, masks):
    """Group ids removed by ``masks`` (no group partly removed, no unselected weight removed)."""
    ids = np.concatenate([g.ravel() for g in ranking.group_ids])
    flat = np.concatenate([m.ravel() for m in masks])
    assert not flat[ids < 0].any(), "an unselected weight is removed"
    removed = np.unique(ids[flat])
    assert not np.isin(ids[~flat], removed).any(), "a group is partly removed"
    return removed


# Masks digests of the implementation before ``parameters`` and ``scope="tensor"`` existed (commit ed08cf1),
# keyed by (level, scope, order, method); each covers 3 importance sets x 2 seeds x 41 fractions.
REFERENCE_DIGESTS = {
    ("weight", "layer", "least", "mean"): "de2b13d658d71df0",
    ("weight", "layer", "least", "max"): "de2b13d658d71df0",
    ("weight", "layer", "most", "mean"): "9bbd693da7758885",
    ("weight", "layer", "most", "max"): "9bbd693da7758885",
    ("weight", "model", "least", "mean"): "ea2bbeb18fe6cc3c",
    ("weight", "model", "least", "max"): "ea2bbeb18fe6cc3c",
    ("weight", "model", "most", "mean"): "4104cdb79d9f64fe",
    ("weight", "model", "most", "max"): "4104cdb79d9f64fe",
    ("unit", "layer", "least", "mean"): "963ae0d5df73791a",
    ("unit", "layer", "least", "max"): "4ac5cef58ffb4140",
    ("unit", "layer", "most", "mean"): "aac27c488e70aa13",
    ("unit", "layer", "most", "max"): "1ae8212ddd322d62",
    ("unit", "model", "least", "mean"): "8252d01e48913c89",
    ("unit", "model", "least", "max"): "9348613ea53dc5bf",
    ("unit", "model", "most", "mean"): "eaaed56764374429",
    ("unit", "model", "most", "max"): "04e3a044504eada7",
    ("filter", "layer", "least", "mean"): "2b2501f4934c7b6a",
    ("filter", "layer", "least", "max"): "367c0cb9742740e5",
    ("filter", "layer", "most", "mean"): "022e72cb44ab459b",
    ("filter", "layer", "most", "max"): "d109612e6cdcfc48",
    ("filter", "model", "least", "mean"): "250d845cc33c7a84",
    ("filter", "model", "least", "max"): "670b3a5a609f5f1d",
    ("filter", "model", "most", "mean"): "e43e4f8683439ce1",
    ("filter", "model", "most", "max"): "9c80b56bbecf4113",
    ("layer", "layer", "least", "mean"): "4722326574eeb8ef",
    ("layer", "layer", "least", "max"): "4722326574eeb8ef",
    ("layer", "layer", "most", "mean"): "4722326574eeb8ef",
    ("layer", "layer", "most", "max"): "4722326574eeb8ef",
    ("layer", "model", "least", "mean"): "849d1c32cc9beec0",
    ("layer", "model", "least", "max"): "205ca6e302263892",
    ("layer", "model", "most", "mean"): "a0435cb5385318fa",
    ("layer", "model", "most", "max"): "b6a576a8542ae95b",
}


def masks_digest(model, level, method, scope, order, **parameters):
    shapes = [tuple(v.shape) for v in model.trainable_weights]
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    tied = [np.ones(s) for s in shapes]
    distinct = [np.arange(offsets[i], offsets[i + 1], dtype=float).reshape(s) for i, s in enumerate(shapes)]
    rng = np.random.default_rng(0)
    coarse = [np.round(rng.uniform(size=s) * 3) for s in shapes]
    digest = hashlib.sha256()
    for importances in (tied, distinct, coarse):
        for seed in (0, 1):
            ranking = rank_groups(model, importances, level, method, scope, order, seed, **parameters)
            for fraction in FRACTIONS:
                digest.update(np.packbits(np.concatenate([m.ravel() for m in ranking.masks(fraction)])).tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("key", sorted(REFERENCE_DIGESTS))
def test_default_and_all_give_the_masks_of_before(model, key):
    level, scope, order, method = key
    assert masks_digest(model, level, method, scope, order) == REFERENCE_DIGESTS[key]
    assert masks_digest(model, level, method, scope, order, parameters="all") == REFERENCE_DIGESTS[key]


def test_selected_tensors_of_the_main_model(model):
    assert selected_tensors(model) == [True] * 10
    assert selected_tensors(model, "all") == [True] * 10
    assert selected_tensors(model, "kernels") == KERNELS
    assert selected_tensors(model, "no_normalization") == NO_NORMALIZATION
    for parameters in Aggregation.PARAMETERS:
        ranking = rank_groups(model, [np.ones(tuple(v.shape)) for v in model.trainable_weights],
                              parameters=parameters)
        assert ranking.selected == selected_tensors(model, parameters)


def _zoo():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="depthwise")(x)
    x = keras.layers.SeparableConv2D(5, 3, padding="same", name="separable")(x)
    x = keras.layers.Conv2DTranspose(3, 3, name="transposed")(x)
    x = keras.layers.GroupNormalization(groups=3, name="group_norm")(x)
    x = keras.layers.Reshape((64, 3))(x)
    x = keras.layers.Conv1D(4, 3, name="conv1d")(x)
    x = keras.layers.LayerNormalization(name="layer_norm")(x)
    x = keras.layers.EinsumDense("abc,cd->abd", output_shape=(62, 6), bias_axes="d", name="einsum")(x)
    if hasattr(keras.layers, "RMSNormalization"):  # Keras >= 3.9
        x = keras.layers.RMSNormalization(name="rms_norm")(x)
    x = keras.layers.UnitNormalization(name="unit_norm")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    image = keras.layers.Dense(3, name="batch_normalization")(x)  # a Dense layer with a misleading name
    tokens = keras.Input((4,), dtype="int32")
    embedded = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(10, 3, name="embedding")(tokens))
    return keras.Model([inputs, tokens], keras.layers.Add()([image, embedded]))


def test_kernels_and_normalization_are_found_by_layer_class_and_identity():
    model = _zoo()
    paths = [v.path for v in model.trainable_weights]
    kernels = {p for p, s in zip(paths, selected_tensors(model, "kernels")) if s}
    assert kernels == {
        "conv/kernel", "depthwise/kernel", "separable/depthwise_kernel", "separable/pointwise_kernel",
        "transposed/kernel", "conv1d/kernel", "einsum/kernel", "batch_normalization/kernel",
    }
    dropped = {p for p, s in zip(paths, selected_tensors(model, "no_normalization")) if not s}
    expected = {"group_norm/gamma", "group_norm/beta", "layer_norm/gamma", "layer_norm/beta"}
    assert dropped == expected | ({"rms_norm/scale"} if hasattr(keras.layers, "RMSNormalization") else set())
    assert "embedding/embeddings" not in kernels


class NamedKernel(keras.layers.Layer):
    """Not a Dense or convolution layer, although its weight is called kernel."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel")

    def call(self, inputs):
        return inputs @ self.kernel


def test_a_selection_of_nothing_is_refused():
    model = keras.Sequential([keras.Input((3,)), NamedKernel()])
    assert selected_tensors(model, "no_normalization") == [True]
    with pytest.raises(ValueError, match=r"parameters='kernels' selects none of the 1 trainable tensors.*'all'"):
        selected_tensors(model, "kernels")
    with pytest.raises(ValueError, match="selects none"):
        threshold_model(model, [np.ones((3, 2))], 0.5, parameters="kernels")


@pytest.mark.parametrize("parameters", ["kernels", "no_normalization"])
@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("scope", Aggregation.SCOPES)
def test_unselected_tensors_are_never_changed(model, distinct, parameters, level, scope):
    chosen = selected_tensors(model, parameters)
    before = all_weights(model)
    statistics = [np.array(v.numpy()) for v in model.non_trainable_weights]
    for fraction in (0.1, 0.3, 0.5, 0.8, 1.0):
        original = get_weights(model)
        result = threshold_model(model, distinct, fraction, level=level, scope=scope, parameters=parameters, seed=2)
        after = get_weights(model)
        for index, selected in enumerate(chosen):
            if not selected:
                assert after[index].tobytes() == original[index].tobytes()
                assert not result.masks[index].any()
        assert result.num_parameters == sum(a.size for a, s in zip(after, chosen) if s)
        assert result.fraction_removed == result.num_removed / result.num_parameters
        assert all(np.array(v.numpy()).tobytes() == s.tobytes()
                   for v, s in zip(model.non_trainable_weights, statistics))
        Aggregation.restore_weights(model, original)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(before, all_weights(model)))


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.3, 0.5, 0.77, 1.0])
def test_kernels_remove_exact_counts_of_every_kernel_at_weight_level(model, tied, seed, fraction):
    original = get_weights(model)
    result = threshold_model(model, tied, fraction, parameters="kernels", seed=seed)
    after = get_weights(model)
    values = replacement_values(original, "noise", seed)
    for index, size in KERNEL_SIZES.items():
        changed = after[index] != original[index]
        assert int(changed.sum()) == int(result.masks[index].sum()) == int(np.floor(fraction * size + 0.5))
        assert np.array_equal(after[index][changed], values[index][changed])
    assert result.num_parameters == sum(KERNEL_SIZES.values()) == 132
    assert result.num_removed == sum(int(np.floor(fraction * n + 0.5)) for n in KERNEL_SIZES.values())


@pytest.mark.parametrize("parameters", Aggregation.PARAMETERS)
@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("scope", Aggregation.SCOPES)
def test_exact_counts_and_nesting_of_selected_groups(model, tied, parameters, level, scope):
    ranking = rank_groups(model, tied, level, "mean", scope, "least", 4, parameters)
    assert all((ids >= 0).all() == s and (ids < 0).all() != s for ids, s in zip(ranking.group_ids, ranking.selected))
    previous = ranking.masks(0.0)
    for fraction in FRACTIONS:
        masks = ranking.masks(fraction)
        removed = removed_groups(ranking, masks)
        per_scope = np.bincount(ranking.group_scopes[removed], minlength=ranking.scope_num_groups.size)
        expected = [int(np.floor(fraction * n + 0.5)) for n in ranking.scope_num_groups]
        assert per_scope.tolist() == expected, fraction
        assert all(np.all(m >= p) for m, p in zip(masks, previous))
        previous = masks
    assert all(m.all() == s and m.any() == s for m, s in zip(previous, ranking.selected))


def test_kernels_unit_level_is_the_kernel_column_without_bias(model, tied):
    ranking = rank_groups(model, tied, "unit", "mean", "layer", "least", 0, "kernels")
    assert ranking.scope_num_groups.tolist() == [3, 4, 5, 2]  # BN is absent
    for kernel, units in [(0, 3), (4, 4), (6, 5), (8, 2)]:
        columns = ranking.group_ids[kernel].reshape(-1, units)
        assert np.all(columns == columns[0][None, :]) and len(np.unique(columns[0])) == units
        assert np.all(ranking.group_ids[kernel + 1] == -1)
    assert np.all(ranking.group_ids[2] == -1) and np.all(ranking.group_ids[3] == -1)


def test_no_normalization_leaves_batch_normalization_out(model, tied):
    ranking = rank_groups(model, tied, "unit", "mean", "layer", "least", 0, "no_normalization")
    assert ranking.scope_num_groups.tolist() == [3, 4, 5, 2]
    assert ranking.num_parameters == 152 - 6


def test_unit_scores_under_kernels_ignore_the_bias(make_dense_model):
    model = make_dense_model(3, 2, np.ones((3, 2)), np.ones(2))
    kernel = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    ranking = rank_groups(model, [kernel, np.array([100.0, -100.0])], "unit", "mean", parameters="kernels")
    np.testing.assert_allclose(ranking.group_scores, [3.0, 2.0 / 3.0])


def test_importances_of_unselected_tensors_are_not_used(model, distinct):
    with_nan = [a.copy() for a in distinct]
    for index in (1, 2, 3, 5):  # conv bias, bn gamma and beta, inner_a bias
        with_nan[index][...] = np.nan
    masks = rank_groups(model, with_nan, "weight", parameters="kernels").masks(0.4)
    expected = rank_groups(model, distinct, "weight", parameters="kernels").masks(0.4)
    assert all(np.array_equal(a, b) for a, b in zip(masks, expected))
    with pytest.raises(ValueError, match=r"importances\[1\] \(conv/bias\) contains NaN"):
        rank_groups(model, with_nan, "weight", parameters="no_normalization")


def test_replaced_weights_take_the_same_values_whatever_the_selection(model, distinct):
    original = get_weights(model)
    threshold_model(model, distinct, 1.0, parameters="all", seed=5)
    everything = get_weights(model)
    Aggregation.restore_weights(model, original)
    threshold_model(model, distinct, 1.0, parameters="kernels", seed=5)
    kernels = get_weights(model)
    for index, selected in enumerate(KERNELS):
        assert np.array_equal(kernels[index], everything[index] if selected else original[index])


def test_threshold_result_counts_selected_parameters(model, distinct):
    ranking = rank_groups(model, distinct, "weight", parameters="kernels")
    masks = ranking.masks(0.5)
    result = ThresholdResult.from_masks(masks, ranking.selected)
    assert result.num_parameters == 132 and result.num_removed == 27 + 24 + 10 + 5
    assert result.fraction_removed == result.num_removed / 132
    assert ThresholdResult.from_masks(masks).num_parameters == 152  # default: every tensor counts
    with pytest.raises(ValueError, match="selected has 3 entries but there are 10 masks"):
        ThresholdResult.from_masks(masks, [True] * 3)
    with pytest.raises(ValueError, match=r"masks\[0\] replaces weights of a tensor"):
        ThresholdResult.from_masks(masks, [False] + [True] * 9)


def test_group_ids_follow_the_selection(model, tied):
    ids, num_groups = Aggregation.group_ids(model, "unit", parameters="kernels")
    ranking = rank_groups(model, tied, "unit", parameters="kernels")
    assert num_groups == ranking.num_groups == 14
    assert all(np.array_equal(a, b) for a, b in zip(ids, ranking.group_ids))
