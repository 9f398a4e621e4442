"""Aggregation methods on hand examples."""

import numpy as np
import pytest

import Aggregation
from Aggregation.registry import METHOD_FUNCTIONS

# Dense 3 -> 2: unit 0 = {1, 3, 5, bias 2}, unit 1 = {-2, 4, 0, bias 6}
KERNEL_IMPORTANCE = np.array([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
BIAS_IMPORTANCE = np.array([2.0, 6.0])
EXPECTED = {
    "mean": [11 / 4, 8 / 4],
    "min": [1.0, -2.0],
    "max": [5.0, 6.0],
    "sum": [11.0, 8.0],
    "l2": [np.sqrt(39.0), np.sqrt(56.0)],
}


def test_every_method_has_a_hand_example():
    assert set(EXPECTED) == set(Aggregation.METHODS)


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_unit_scores_match_hand_computation(make_dense_model, method):
    model = make_dense_model(3, 2, np.ones((3, 2)), np.ones(2))
    ranking = Aggregation.rank_groups(model, [KERNEL_IMPORTANCE, BIAS_IMPORTANCE], "unit", method, "layer", "least", 0)
    np.testing.assert_allclose(ranking.group_scores, EXPECTED[method], rtol=1e-12)
    removed_unit = int(np.argmin(EXPECTED[method]))  # half of 2 units, least important first
    masks = ranking.masks(0.5)
    assert masks[1].tolist() == [j == removed_unit for j in range(2)]
    assert np.all(masks[0] == masks[1][None, :])


@pytest.mark.parametrize("method", sorted(EXPECTED))
def test_methods_with_unsorted_group_ids(method):
    values = np.array([4.0, -1.0, 2.0, 3.0, 0.5, -6.0])
    group_ids = np.array([2, 0, 1, 0, 2, 1])
    groups = [values[group_ids == g] for g in range(3)]
    reference = {
        "mean": np.mean, "min": np.min, "max": np.max, "sum": np.sum, "l2": lambda v: np.sqrt(np.sum(v * v)),
    }[method]
    np.testing.assert_allclose(METHOD_FUNCTIONS[method](values, group_ids, 3), [reference(g) for g in groups])
