"""The adaptive threshold grid: refined in the fraction removed, at removal steps only, the tolerance crossing
first (where the first point above the band is, or an earlier interval a concave parabola lifts above it), with the
configuration's tolerance, then where the curvature estimate of the area's error (which sees a bump between level
ends and leaves a straight rise alone) is largest; and ``RemovalSteps``, the fraction removed as a step
function."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

import Aggregation
from Experiment import ExperimentConfig, run_experiment
from Experiment import thresholds as grids
from Experiment.removal_steps import RemovalSteps
from Schema import DEFAULT_TOLERANCE, KEY_DIGITS, config_path

CURVE = ["trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order"]


def knee(f: float) -> float:
    """Flat at 1 up to 0.6, 6 % above it (just outside the 5 % band) up to 0.8, then a jump to chance, 3."""
    return 1.0 if f <= 0.6 else 1.06 if f < 0.8 else 3.0


def adaptive_picks(loss, budget: int, **options) -> list[float]:
    points = {f: (f, loss(f)) for f in grids.ADAPTIVE_START}
    picked = []
    while (f := grids.next_adaptive(points, budget, **options)) is not None:
        picked.append(f)
        points[f] = (f, loss(f))
    return picked


def within_tolerance(points: list[tuple[float, float]], tolerance: float = DEFAULT_TOLERANCE) -> float:
    """The analysis' largest fraction removed before the first point above L0 (1 + tolerance)."""
    points = sorted(points)
    limit = points[0][1] * (1 + tolerance)
    first = next(k for k, (_, loss) in enumerate(points) if loss > limit)
    return points[first - 1][0]


def test_the_tolerance_crossing_is_halved_first_though_the_area_bound_points_elsewhere():
    # [0.75, 1] has the largest area estimate (0.97 x 0.25); [0.5, 0.75] holds the 5 % crossing at 0.6 and an
    # estimate of only 0.03 x 0.25. The crossing interval is halved first, down to 2^-7 (at most 0.01), then the area is refined.
    picked = adaptive_picks(knee, budget=12)
    assert picked[:5] == [0.625, 0.5625, 0.59375, 0.609375, 0.6015625]
    assert picked[5] == 0.875
    found = within_tolerance([(f, knee(f)) for f in [*grids.ADAPTIVE_START, *picked]])
    assert 0.6 - grids.ADAPTIVE_CROSSING_WIDTH <= found <= 0.6


def test_the_crossing_stops_at_a_hundredth_though_the_fractions_are_not_dyadic():
    # Each threshold t removes 1.002 t (a step a hair past t, as whole groups make it). The loss leaves the band at
    # once: halving [0, 1/4] five times leaves [0, 1.002 / 128], 0.0078, within a hundredth, so there is no sixth
    # halving (a bound of 2^-7 itself would spend one on the 0.00002 by which 1.002 / 128 exceeds it), and the
    # straight line after the jump needs nothing more.
    def fraction(t):
        return min(1.0, 1.002 * t)

    def between(low, high, wanted):
        threshold = round(wanted / 1.002, KEY_DIGITS)
        return threshold if low < fraction(threshold) < high else None

    def loss(f):
        return 1.0 if f == 0 else 2.0 + f

    points = {t: (fraction(t), loss(fraction(t))) for t in grids.ADAPTIVE_START}
    picked = []
    while (t := grids.next_adaptive(points, 12, between=between)) is not None:
        picked.append(t)
        points[t] = (fraction(t), loss(fraction(t)))
    assert picked == [0.125, 0.0625, 0.03125, 0.015625, 0.0078125]


def test_the_tolerance_refined_is_the_one_given():
    # Within a 10 % tolerance 1.06 is inside the band, so the crossing is the jump at 0.8, in [0.75, 1].
    picked = adaptive_picks(knee, budget=8, tolerance=0.10)
    assert picked == [0.875, 0.8125, 0.78125]
    assert adaptive_picks(knee, budget=8) != picked


def test_the_area_estimate_is_the_trapezoid_error_of_the_parabola_through_the_neighbours():
    # On y = 3 f^2 every parabola through three points is the curve itself: D_j = 6 at every inner point, however
    # uneven the points, and E_k = 6 w^3 / 12 is the trapezoid's error on that interval exactly.
    fractions = [0.0, 0.1, 0.25, 0.3, 0.7, 1.0]
    values = [3 * f ** 2 for f in fractions]
    second = grids.second_derivatives(fractions, values)
    assert second[0] == second[-1] == 0.0
    np.testing.assert_allclose(second[1:-1], 6.0)
    for a, b in zip(fractions, fractions[1:]):
        chord = (b - a) * (3 * a ** 2 + 3 * b ** 2) / 2
        assert chord - (b ** 3 - a ** 3) == pytest.approx(6.0 * (b - a) ** 3 / 12)
    # By hand on 0, 1/4, 1/2 with values 0, 0, 1: slopes 0 and 4, D = 2 (4 - 0) / (1/2) = 16; a straight line: 0.
    assert grids.second_derivatives([0, 0.25, 0.5], [0, 0, 1]) == [0.0, 16.0, 0.0]
    assert grids.second_derivatives([0, 0.25, 0.5, 1], [0, 1, 2, 4]) == [0.0, 0.0, 0.0, 0.0]
    assert np.isnan(grids.second_derivatives([0, 0.5, 1], [0, np.nan, 1])[1])


def straight_then_bump(f: float) -> float:
    """A straight rise from 1 to 3 over [0, 1/2] (normalised slope 2), then 3, except a bump to 5 on (0.55, 0.7):
    the interval [1/2, 3/4] between the starting fractions has level ends (3 and 3) and the bump inside."""
    if f <= 0.5:
        return 1.0 + 4.0 * f
    return 5.0 if 0.55 < f < 0.7 else 3.0


def test_a_bump_between_level_ends_is_found_before_a_straight_rise_is_split():
    # A tolerance no point leaves, so only the area estimate picks. Normalised (by Lc - L0 = 2), the starting
    # points are 0, 1/2, 1, 1, 1: the slopes 2, 2, 0, 0 turn only at 1/2 (D = 2 (0 - 2) / (1/2) = -8), so
    # [1/4, 1/2] and [1/2, 3/4] tie at 8 (1/4)^3 / 12 and [0, 1/4], whose parabola is the straight line itself, is 0.
    # The tie goes to 3/8 (on the line), after which the turn at 1/2 is sharper (D = -32/3) and [1/2, 3/4] is
    # split at 5/8, inside the bump. A bound from the ends (w |y_{k+1} - y_k|, the worst case of a monotone
    # interval) picks 1/8, 3/8, 1/16, 3/16, 5/16, 7/16 on the straight rise before it looks inside the bump.
    picked = adaptive_picks(straight_then_bump, budget=8, tolerance=10.0)
    assert picked[:2] == [0.375, 0.625]
    assert straight_then_bump(0.625) == 5.0
    assert not any(f < 0.25 for f in adaptive_picks(straight_then_bump, budget=12, tolerance=10.0))


def hill(f: float) -> float:
    """L0 = 1; a rise to 1.048 at 1/4, just inside the 5 % band; a hill above the band on (0.278, 0.472), peaking
    at 1.053 at 3/8; 1.048 again at 1/2 and up to 0.6; then chance, 3. The starting points 0, 1/4, 1/2 are all
    inside the band, the first above it is 3/4."""
    if f <= 0.25:
        return 1.0 + 0.192 * f
    if f <= 0.5:
        return 1.048 + 0.32 * (f - 0.25) * (0.5 - f)
    return 1.048 if f <= 0.6 else 3.0


def test_an_earlier_interval_that_a_concave_parabola_lifts_above_the_band_is_refined_for_the_crossing():
    # The normalised points 0, 0.024, 0.024 at 0, 1/4, 1/2 turn down at 1/4 (D = 2 (0 - 0.096) / (1/2) = -0.384),
    # lifting [0, 1/4] and [1/4, 1/2] by 0.384 (1/4)^2 / 8 = 0.003 above 0.024, past the band, 0.025. So the
    # first interval that may hold the crossing is refined, not the one ending at 3/4, and the analysis finds the
    # hill's edge at 0.278 within 0.01. Refining only the interval ending at the first point above the band
    # would report 0.5996: the tolerance fraction off by 0.32.
    true_crossing = 0.375 - (0.015625 - 0.002 / 0.32) ** 0.5
    picked = adaptive_picks(hill, budget=16)
    assert 0.375 in picked[:3]
    found = within_tolerance([(f, hill(f)) for f in [*grids.ADAPTIVE_START, *picked]])
    assert true_crossing - grids.ADAPTIVE_CROSSING_WIDTH <= found <= true_crossing


def small_ranking(order: str = "least") -> Aggregation.Ranking:
    """Unit level, scope layer: a Dense(3) on 4 inputs (3 units of 5 parameters) and a Dense(2) (2 units of 4)."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    importances = [np.arange(np.prod(w.shape), dtype=float).reshape(w.shape) for w in model.trainable_weights]
    return Aggregation.rank_groups(model, importances, level="unit", method="mean", scope="layer", order=order)


def test_removal_steps_count_what_the_masks_remove():
    for order in ("least", "most"):
        ranking = small_ranking(order)
        steps = RemovalSteps(ranking)
        for t in np.linspace(0, 1, 241):
            removed = Aggregation.ThresholdResult.from_masks(ranking.masks(t), ranking.selected).fraction_removed
            assert steps.fraction(t) == removed
    # f(t) = (5 floor(3t + 1/2) + 4 floor(2t + 1/2)) / 23: six values, with steps at 1/6, 1/4, 1/2, 3/4, 5/6.
    assert sorted({steps.fraction(t) for t in np.linspace(0, 1, 1001)}) == [k / 23 for k in (0, 5, 9, 14, 18, 23)]
    assert steps.between(0, 9 / 23, 0.1) == 0.2  # the step [1/6, 1/4), at its shortest threshold
    assert steps.fraction(steps.between(9 / 23, 1, 0.65)) == 14 / 23  # the step nearest 0.7 strictly inside
    assert steps.between(9 / 23, 14 / 23, 0.5) is None  # no step strictly between two neighbouring ones


def test_no_evaluation_is_spent_inside_a_removal_step():
    # The starting thresholds 0, 1/4, 1/2, 3/4, 1 remove 0, 9, 14, 18 and 23 of 23 parameters; the only fraction
    # left is 5/23 (thresholds in [1/6, 1/4)). A bisection in threshold would go on measuring those same fractions.
    steps = RemovalSteps(small_ranking())
    points = {t: (steps.fraction(t), 1 + 2 * steps.fraction(t) ** 2) for t in grids.ADAPTIVE_START}
    picked = []
    while (t := grids.next_adaptive(points, 16, between=steps.between)) is not None:
        picked.append(t)
        points[t] = (steps.fraction(t), 1 + 2 * steps.fraction(t) ** 2)
    assert picked == [0.2] and points[0.2][0] == 5 / 23


def test_adaptive_run_measures_distinct_fractions_with_the_configured_tolerance(make_config, tmp_path, monkeypatch):
    seen = []
    original = grids.next_adaptive

    def recording(points, budget, tolerance, between):
        seen.append(tolerance)
        return original(points, budget, tolerance, between)

    monkeypatch.setattr(grids, "next_adaptive", recording)
    config = make_config(tmp_path / "adaptive.csv", epochs=1, measures=["magnitude"], aggregation_levels=["unit"],
                         threshold_spacing="adaptive", num_thresholds=12, adaptive_tolerance=0.2)
    results = pd.read_csv(run_experiment(config))
    assert set(seen) == {0.2}
    assert json.loads(config_path(config.results_csv).read_text())["adaptive_tolerance"] == 0.2
    for _, curve in results.groupby(CURVE):
        refined = curve[~curve.threshold.isin(grids.ADAPTIVE_START)]
        assert len(refined) > 0
        # Each refined threshold removes a fraction that no other threshold of its curve removes.
        assert not refined.fraction_removed.isin(curve.fraction_removed.drop(refined.index)).any()
        assert refined.fraction_removed.is_unique


@pytest.mark.parametrize("value", [-0.01, "5%", True, float("nan")])
def test_a_bad_adaptive_tolerance_is_refused(make_config, tmp_path, value):
    with pytest.raises(ValueError, match="adaptive_tolerance"):
        make_config(tmp_path / "bad.csv", threshold_spacing="adaptive", adaptive_tolerance=value)


def test_adaptive_tolerance_is_part_of_an_adaptive_run_only_and_old_files_read_as_the_default(make_config, tmp_path):
    adaptive = make_config(tmp_path / "a.csv", threshold_spacing="adaptive")
    assert adaptive.adaptive_tolerance == DEFAULT_TOLERANCE
    assert adaptive.differences(make_config(tmp_path / "a.csv", threshold_spacing="adaptive",
                                            adaptive_tolerance=0.1)) == {"adaptive_tolerance": (0.05, 0.1)}
    linear = make_config(tmp_path / "l.csv")
    assert linear.differences(make_config(tmp_path / "l.csv", adaptive_tolerance=0.1)) == {}
    # A configuration saved before the field existed is an adaptive run at the default tolerance.
    saved = adaptive.to_dict()
    del saved["adaptive_tolerance"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(saved))
    assert ExperimentConfig.load(path).differences(adaptive) == {}
