"""Importances become precisions Ω >= 0 on one scale, whatever the measure's sign and scale."""

import numpy as np
import pytest

from SequentialLearning import NORMALIZATIONS, normalize_importances


def _arrays():
    return [np.array([[-2.0, 0.0], [1.0, 3.0]]), np.array([1e-6, 4.0, -0.5])]


def test_mean_clips_negatives_and_scales_to_mean_one():
    omega = normalize_importances(_arrays(), "mean")
    flat = np.concatenate([o.ravel() for o in omega])
    assert [o.shape for o in omega] == [(2, 2), (3,)]
    assert np.all(flat >= 0) and flat[0] == 0.0 and flat[-1] == 0.0
    np.testing.assert_allclose(flat.mean(), 1.0)
    positive = np.maximum(np.concatenate([a.ravel() for a in _arrays()]), 0)
    np.testing.assert_allclose(flat, positive / positive.mean())


def test_scale_of_the_measure_does_not_matter():
    small = normalize_importances([a * 1e-5 for a in _arrays()], "mean")
    large = normalize_importances([a * 1e3 for a in _arrays()], "mean")
    for s, l in zip(small, large):
        np.testing.assert_allclose(s, l)


def test_rank_keeps_the_order_with_mean_one_in_zero_two():
    omega = normalize_importances(_arrays(), "rank")
    flat = np.concatenate([o.ravel() for o in omega])
    raw = np.concatenate([a.ravel() for a in _arrays()])
    np.testing.assert_allclose(flat.mean(), 1.0)
    assert np.all((flat > 0) & (flat < 2))
    np.testing.assert_array_equal(np.argsort(flat, kind="stable"), np.argsort(raw, kind="stable"))


def test_max_and_none():
    flat_max = np.concatenate([o.ravel() for o in normalize_importances(_arrays(), "max")])
    assert flat_max.max() == 1.0 and flat_max.min() == 0.0
    flat_none = np.concatenate([o.ravel() for o in normalize_importances(_arrays(), "none")])
    np.testing.assert_allclose(flat_none, np.maximum(np.concatenate([a.ravel() for a in _arrays()]), 0))


def test_no_positive_importance_gives_no_penalty_with_a_warning():
    with pytest.warns(UserWarning, match="no penalty"):
        omega = normalize_importances([np.array([-1.0, -2.0])], "mean")
    assert np.all(omega[0] == 0)


def test_unknown_normalization_and_non_finite_values_are_refused():
    with pytest.raises(ValueError, match=str(list(NORMALIZATIONS)).replace("[", r"\[").replace("]", r"\]")):
        normalize_importances(_arrays(), "zscore")
    with pytest.raises(FloatingPointError):
        normalize_importances([np.array([1.0, np.nan])], "mean")
