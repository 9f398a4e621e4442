"""scope="tensor": every trainable tensor removes its own fraction, the level applied within each tensor."""

import numpy as np
import pytest

import Aggregation
from Aggregation import rank_groups, threshold_model

FRACTIONS = sorted(set(np.round(np.linspace(0.0, 1.0, 41), 6)) | {0.01, 0.15, 0.33, 0.45, 0.55, 0.99})
SIZES = [54, 3, 3, 3, 48, 4, 20, 5, 10, 2]  # the main model's trainable tensors


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_weight_level_removes_exact_counts_of_every_tensor(model, tied, seed):
    ranking = rank_groups(model, tied, "weight", "mean", "tensor", "least", seed)
    assert ranking.scope_num_groups.tolist() == SIZES
    assert ranking.tensor_scopes.tolist() == list(range(10))
    for fraction in FRACTIONS:
        masks = ranking.masks(fraction)
        assert [int(m.sum()) for m in masks] == [int(np.floor(fraction * n + 0.5)) for n in SIZES], fraction


def test_unit_level_groups_within_each_tensor(model, tied):
    ranking = rank_groups(model, tied, "unit", "mean", "tensor", "least", 0)
    assert ranking.scope_num_groups.tolist() == [3, 3, 3, 3, 4, 4, 5, 5, 2, 2]
    ids = ranking.group_ids
    for kernel, units in [(0, 3), (4, 4), (6, 5), (8, 2)]:
        columns = ids[kernel].reshape(-1, units)
        assert np.all(columns == columns[0][None, :]) and len(np.unique(columns[0])) == units
        assert not set(ids[kernel].ravel().tolist()) & set(ids[kernel + 1].tolist())  # the bias is on its own
    assert len(np.unique(np.concatenate([i.ravel() for i in ids]))) == ranking.num_groups == 34
    for fraction in FRACTIONS:
        masks = ranking.masks(fraction)
        for kernel, units in [(0, 3), (4, 4), (6, 5), (8, 2)]:
            columns = masks[kernel].reshape(-1, units)
            assert np.all(columns == columns[0][None, :])
            assert int(columns[0].sum()) == int(np.floor(fraction * units + 0.5))


def test_filter_level_groups_conv_filters_within_the_kernel(model, tied):
    ranking = rank_groups(model, tied, "filter", "mean", "tensor", "least", 0)
    assert ranking.scope_num_groups.tolist() == [3, 3, 3, 3, 48, 4, 20, 5, 10, 2]
    assert np.all(ranking.group_ids[0].reshape(-1, 3) == ranking.group_ids[0].reshape(-1, 3)[0])


def test_layer_level_makes_each_tensor_one_group(model, tied):
    ranking = rank_groups(model, tied, "layer", "mean", "tensor", "least", 0)
    assert ranking.scope_num_groups.tolist() == [1] * 10
    for fraction in (0.0, 0.49, 0.5, 1.0):
        masks = ranking.masks(fraction)
        assert all(m.all() == (fraction >= 0.5) and m.any() == (fraction >= 0.5) for m in masks)


def test_unit_scores_at_tensor_scope_leave_the_bias_out(make_dense_model):
    model = make_dense_model(3, 2, np.ones((3, 2)), np.ones(2))
    kernel = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    ranking = rank_groups(model, [kernel, np.array([2.0, 6.0])], "unit", "mean", "tensor", "least", 0)
    np.testing.assert_allclose(ranking.group_scores, [3.0, 2.0 / 3.0, 2.0, 6.0])
    masks = ranking.masks(0.5)
    assert masks[0].tolist() == [[False, True]] * 3 and masks[1].tolist() == [True, False]


def test_tensor_scope_ranks_within_each_tensor(model, distinct):
    # distinct importances increase along each tensor: the first weights of every tensor go first.
    masks = rank_groups(model, distinct, "weight", "mean", "tensor", "least", 0).masks(0.25)
    for mask, size in zip(masks, SIZES):
        k = int(np.floor(0.25 * size + 0.5))
        assert mask.ravel().tolist() == [True] * k + [False] * (size - k)


def test_tensor_scope_equals_layer_scope_when_every_layer_has_one_selected_tensor(model, distinct, tied):
    for importances in (distinct, tied):
        for level in Aggregation.LEVELS:
            by_tensor = rank_groups(model, importances, level, "mean", "tensor", "least", 3, "kernels")
            by_layer = rank_groups(model, importances, level, "mean", "layer", "least", 3, "kernels")
            for fraction in (0.2, 0.5, 0.9):
                assert all(np.array_equal(a, b) for a, b in zip(by_tensor.masks(fraction), by_layer.masks(fraction)))


def test_ties_at_tensor_scope_are_broken_by_seed(model, tied):
    masks = {seed: rank_groups(model, tied, "weight", "mean", "tensor", "least", seed).masks(0.5) for seed in (0, 1)}
    again = rank_groups(model, tied, "weight", "mean", "tensor", "least", 0).masks(0.5)
    assert all(np.array_equal(a, b) for a, b in zip(masks[0], again))
    assert not np.array_equal(masks[0][0], masks[1][0])


def test_threshold_model_at_tensor_scope_keeps_bn_statistics_and_counts(model, distinct):
    statistics = [np.array(v.numpy()) for v in model.non_trainable_weights]
    result = threshold_model(model, distinct, 0.3, level="weight", scope="tensor", replacement="zero")
    assert result.num_removed == sum(int(np.floor(0.3 * n + 0.5)) for n in SIZES)
    assert result.num_parameters == 152
    assert all(np.array_equal(a, np.array(v.numpy())) for a, v in zip(statistics, model.non_trainable_weights))
