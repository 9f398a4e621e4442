"""Ranking and masks: exact counts, orders, scopes, ties and nesting."""

import numpy as np
import pytest

import Aggregation
from Aggregation import num_groups_to_remove, rank_groups

FRACTIONS = sorted(set(np.round(np.linspace(0.0, 1.0, 41), 6)) | {0.01, 0.15, 0.33, 0.45, 0.55, 0.99})


def removed_groups(ranking, masks):
    """Group ids removed by ``masks``, after checking no group is partly removed."""
    ids = np.concatenate([g.ravel() for g in ranking.group_ids])
    flat = np.concatenate([m.ravel() for m in masks])
    removed = np.unique(ids[flat])
    assert not np.isin(ids[~flat], removed).any(), "a group is partly removed"
    return removed


@pytest.mark.parametrize(
    "fraction, num_groups, expected",
    [(0.0, 7, 0), (1.0, 7, 7), (0.5, 1, 1), (0.49, 1, 0), (0.25, 2, 1), (0.5, 3, 2), (0.5, 5, 3), (0.3, 10, 3),
     (0.7, 10, 7), (0.1, 152, 15), (0.125, 4, 1), (0.375, 4, 2)],
)
def test_num_groups_to_remove_rounds_half_up(fraction, num_groups, expected):
    assert num_groups_to_remove(fraction, num_groups) == expected == int(np.floor(fraction * num_groups + 0.5))


@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("scope", Aggregation.SCOPES)
@pytest.mark.parametrize("seed", [0, 5])
def test_exact_removal_counts_with_tied_importances(model, tied, level, scope, seed):
    ranking = rank_groups(model, tied, level, "mean", scope, "least", seed)
    for fraction in FRACTIONS:
        removed = removed_groups(ranking, ranking.masks(fraction))
        if scope == "layer":
            per_layer = np.bincount(ranking.group_layers[removed], minlength=5)
            sizes = np.bincount(ranking.group_layers)
            expected = [int(np.floor(fraction * n + 0.5)) for n in sizes]
            assert per_layer.tolist() == expected, fraction
        elif scope == "tensor":
            per_tensor = np.bincount(ranking.group_scopes[removed], minlength=10)
            sizes = np.bincount(ranking.group_scopes)
            assert sizes.size == 10
            assert per_tensor.tolist() == [int(np.floor(fraction * n + 0.5)) for n in sizes], fraction
        else:
            assert removed.size == int(np.floor(fraction * ranking.num_groups + 0.5)), fraction


@pytest.mark.parametrize("level", Aggregation.LEVELS)
@pytest.mark.parametrize("scope", Aggregation.SCOPES)
def test_masks_are_nested_across_fractions(model, distinct, tied, level, scope):
    rng = np.random.default_rng(0)
    coarse = [np.round(rng.uniform(size=a.shape) * 3) for a in distinct]  # many ties
    for importances in (distinct, tied, coarse):
        ranking = rank_groups(model, importances, level, "max", scope, "most", 1)
        previous = ranking.masks(0.0)
        assert not any(m.any() for m in previous)
        for fraction in FRACTIONS[1:]:
            current = ranking.masks(fraction)
            assert all(np.all(c >= p) for c, p in zip(current, previous))
            previous = current
        assert all(m.all() for m in previous)


def test_masks_have_the_shapes_of_the_trainable_weights(model, distinct):
    masks = rank_groups(model, distinct, "unit", "l2", "model", "least", 0).masks(0.4)
    assert [m.shape for m in masks] == [tuple(v.shape) for v in model.trainable_weights]
    assert all(m.dtype == bool for m in masks)


def test_threshold_separates_removed_from_kept(model):
    # Coarse importances (lots of ties): in every layer, removed weights are never more important than kept ones.
    rng = np.random.default_rng(3)
    importances = [rng.integers(0, 4, size=tuple(v.shape)).astype(float) for v in model.trainable_weights]
    ranking = rank_groups(model, importances, "weight", "mean", "layer", "least", 0)
    for fraction in (0.2, 0.5, 0.8):
        masks = ranking.masks(fraction)
        for layer in range(5):
            tensors = [i for i in range(10) if ranking.tensor_scopes[i] == layer]
            values = np.concatenate([importances[i].ravel() for i in tensors])
            removed = np.concatenate([masks[i].ravel() for i in tensors])
            assert values[removed].max() <= values[~removed].min()


def test_order_least_and_most_pick_the_right_units(make_dense_model):
    model = make_dense_model(3, 4, np.ones((3, 4)), np.ones(4))
    means = np.array([3.0, 1.0, 4.0, 2.0])
    importances = [np.tile(means, (3, 1)), means.copy()]
    least = rank_groups(model, importances, "unit", "mean", "layer", "least", 0).masks(0.5)
    most = rank_groups(model, importances, "unit", "mean", "layer", "most", 0).masks(0.5)
    assert least[1].tolist() == [False, True, False, True]
    assert most[1].tolist() == [True, False, True, False]
    assert np.all(least[0] == least[1]) and np.all(most[0] == most[1])
    first = rank_groups(model, importances, "unit", "mean", "layer", "most", 0).masks(0.25)
    assert first[1].tolist() == [False, False, True, False]


def test_scope_model_ranks_across_layers_and_scope_layer_within_each(model, distinct):
    # distinct importances increase along model.trainable_weights: the conv kernel holds the 54 smallest.
    by_model = rank_groups(model, distinct, "weight", "mean", "model", "least", 0).masks(0.25)
    assert by_model[0].ravel().tolist() == [True] * 38 + [False] * 16  # floor(0.25 * 152 + 0.5) = 38
    assert sum(int(m.sum()) for m in by_model) == 38
    by_model_most = rank_groups(model, distinct, "weight", "mean", "model", "most", 0).masks(0.25)
    flat = np.concatenate([m.ravel() for m in by_model_most])
    assert flat.tolist() == [False] * 114 + [True] * 38
    by_layer = rank_groups(model, distinct, "weight", "mean", "layer", "least", 0).masks(0.25)
    counts = [int(by_layer[i].sum() + by_layer[i + 1].sum()) for i in range(0, 10, 2)]
    assert counts == [int(np.floor(0.25 * n + 0.5)) for n in (57, 6, 52, 25, 12)]
    assert by_layer[0].ravel()[:14].all() and not by_layer[0].ravel()[14:].any()


def test_ties_broken_by_seed_reproducibly(model, tied):
    masks = {seed: rank_groups(model, tied, "weight", "mean", "model", "least", seed).masks(0.5) for seed in (0, 1)}
    again = rank_groups(model, tied, "weight", "mean", "model", "least", 0).masks(0.5)
    assert all(np.array_equal(a, b) for a, b in zip(masks[0], again))
    assert not all(np.array_equal(a, b) for a, b in zip(masks[0], masks[1]))
    units = {seed: rank_groups(model, tied, "unit", "sum", "layer", "least", seed).masks(0.5)[5] for seed in range(6)}
    assert len({tuple(m.tolist()) for m in units.values()}) > 1
