"""Grouping: which weights each level keeps or removes together."""

import keras
import numpy as np
import pytest

import Aggregation
from Aggregation.ranking import rank_groups

FRACTIONS = np.linspace(0.0, 1.0, 21)


def test_owning_layers_walks_nested_models_by_identity(model, trainable_paths):
    assert [v.path for v in model.trainable_weights] == trainable_paths
    owners = Aggregation.owning_layers(model)
    nested = model.get_layer("nested")
    expected = [model.get_layer("conv")] * 2 + [model.get_layer("bn")] * 2 + [nested.layers[0]] * 2
    expected += [nested.layers[1]] * 2 + [model.get_layer("head")] * 2
    assert all(owner is layer for owner, layer in zip(owners, expected))


def test_owning_layers_do_not_rely_on_names():
    # Two nested models whose layers share names: owners must still be the right objects.
    first = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="same")], name="first")
    second = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="same")], name="second")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, second(first(inputs)))
    owners = Aggregation.owning_layers(model)
    assert owners[0] is owners[1] is first.layers[0]
    assert owners[2] is owners[3] is second.layers[0]


def test_weight_level_every_weight_is_its_own_group(model, tied):
    ranking = rank_groups(model, tied, "weight", "mean", "layer", "least", 0)
    ids = np.concatenate([g.ravel() for g in ranking.group_ids])
    assert len(np.unique(ids)) == ids.size == 152
    assert ranking.scope_num_groups.tolist() == [57, 6, 52, 25, 12]


def test_unit_level_groups_per_output_unit(model, tied):
    ranking = rank_groups(model, tied, "unit", "mean", "layer", "least", 0)
    ids = ranking.group_ids
    assert ranking.scope_num_groups.tolist() == [3, 3, 4, 5, 2]
    for kernel, bias in [(0, 1), (4, 5), (6, 7), (8, 9)]:
        units = bias_size = ids[bias].size
        columns = ids[kernel].reshape(-1, units)
        assert np.all(columns == ids[bias][None, :]), kernel
        assert len(np.unique(ids[bias])) == bias_size
    assert np.array_equal(ids[2], ids[3])  # BN gamma[j] with beta[j]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unit_level_masks_keep_or_replace_whole_units(model, tied, seed):
    ranking = rank_groups(model, tied, "unit", "mean", "layer", "least", seed)
    partial_seen = False
    for fraction in FRACTIONS:
        masks = ranking.masks(fraction)
        for kernel, bias in [(0, 1), (4, 5), (6, 7), (8, 9)]:
            columns = masks[kernel].reshape(-1, masks[bias].size)
            assert np.all(columns == masks[bias][None, :])
            partial_seen |= bool(masks[bias].any() and not masks[bias].all())
        assert np.array_equal(masks[2], masks[3])
    assert partial_seen


def test_filter_level_groups_conv_filters_and_leaves_dense_per_weight(model, tied):
    ranking = rank_groups(model, tied, "filter", "mean", "layer", "least", 0)
    ids = ranking.group_ids
    assert ranking.scope_num_groups.tolist() == [3, 6, 52, 25, 12]
    assert np.all(ids[0].reshape(-1, 3) == ids[1][None, :])
    dense_ids = np.concatenate([ids[i].ravel() for i in range(2, 10)])
    assert len(np.unique(dense_ids)) == dense_ids.size
    masks = ranking.masks(0.5)
    assert np.all(masks[0].reshape(-1, 3) == masks[1][None, :])


def test_layer_level_groups_whole_layers(model, tied):
    for scope in ("layer", "model"):  # scope "tensor" splits a layer into its tensors: test_aggregation_scopes.py
        ranking = rank_groups(model, tied, "layer", "mean", scope, "least", 3)
        assert ranking.num_groups == 5
        for fraction in FRACTIONS:
            masks = ranking.masks(fraction)
            for first, second in [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]:
                values = np.concatenate([masks[first].ravel(), masks[second].ravel()])
                assert values.all() or not values.any()


class TwoTensors(keras.layers.Layer):
    """A layer whose tensors disagree on the last axis, plus a 0-d tensor."""

    def build(self, input_shape):
        self.matrix = self.add_weight(shape=(3, 4), name="matrix")
        self.vector = self.add_weight(shape=(5,), name="vector")
        self.scalar = self.add_weight(shape=(), name="scalar")

    def call(self, inputs):
        return inputs


def test_unit_level_tensors_disagreeing_on_last_axis_are_grouped_on_their_own():
    model = keras.Sequential([keras.Input((2,)), TwoTensors()])
    importances = [np.ones((3, 4)), np.ones(5), np.ones(())]
    ranking = rank_groups(model, importances, "unit", "mean", "layer", "least", 0)
    ids = ranking.group_ids
    assert ranking.num_groups == 4 + 5 + 1
    assert np.all(ids[0] == ids[0][0][None, :]) and len(np.unique(ids[0])) == 4
    assert len(np.unique(ids[1])) == 5 and not set(ids[1].tolist()) & set(ids[0].ravel().tolist())
    assert ids[2].shape == () and ids[2] not in set(ids[0].ravel()) | set(ids[1])


def _unit_ids(layer, input_shape):
    model = keras.Sequential([keras.Input(input_shape), layer])
    importances = [np.ones(tuple(v.shape)) for v in model.trainable_weights]
    return rank_groups(model, importances, "unit", "mean", "layer", "least", 0).group_ids


def test_transposed_conv_filters_are_on_axis_minus_two():
    kernel, bias = _unit_ids(keras.layers.Conv2DTranspose(4, 3), (5, 5, 2))  # kernel (3, 3, 4, 2)
    assert kernel.shape == (3, 3, 4, 2)
    assert np.all(kernel == bias[None, None, :, None])


def test_depthwise_conv_channels_follow_the_bias():
    kernel, bias = _unit_ids(keras.layers.DepthwiseConv2D(3, depth_multiplier=2), (5, 5, 3))  # (3, 3, 3, 2), (6,)
    assert np.all(kernel == bias.reshape(3, 2)[None, None])


def test_separable_conv_pointwise_filter_with_bias_depthwise_on_its_own():
    depthwise, pointwise, bias = _unit_ids(keras.layers.SeparableConv2D(6, 3), (5, 5, 6))  # in*dm == filters
    assert np.all(pointwise.reshape(-1, 6) == bias[None, :])
    assert not set(depthwise.ravel().tolist()) & set(bias.tolist())
