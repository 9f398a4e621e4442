"""The adaptive threshold grid: refined in the fraction removed, at removal steps only, the tolerance crossing
first, with the configuration's tolerance, then where the area estimate (which sees a bump between level ends) is
largest; and ``RemovalSteps``, the fraction removed as a step function."""

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
from Schema import DEFAULT_TOLERANCE, config_path

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
    # estimate of only 0.03 x 0.25. The crossing interval is halved first, down to 2^-7, then the area is refined.
    picked = adaptive_picks(knee, budget=12)
    assert picked[:5] == [0.625, 0.5625, 0.59375, 0.609375, 0.6015625]
    assert picked[5] == 0.875
    found = within_tolerance([(f, knee(f)) for f in [*grids.ADAPTIVE_START, *picked]])
    assert 0.6 - grids.ADAPTIVE_CROSSING_WIDTH <= found <= 0.6


def test_the_tolerance_refined_is_the_one_given():
    # Within a 10 % tolerance 1.06 is inside the band, so the crossing is the jump at 0.8, in [0.75, 1].
    picked = adaptive_picks(knee, budget=8, tolerance=0.10)
    assert picked == [0.875, 0.8125, 0.78125]
    assert adaptive_picks(knee, budget=8) != picked


def ramp_with_a_bump(f: float) -> float:
    """1 up to 1/4, a ramp to 3 at 1/2 (normalised slope 4), then 3, except a bump to 5 on (0.55, 0.7): the
    interval [1/2, 3/4] between the starting fractions has level ends (3 and 3) and the bump inside."""
    if f <= 0.25:
        return 1.0
    if f <= 0.5:
        return 1.0 + 8 * (f - 0.25)
    return 5.0 if 0.55 < f < 0.7 else 3.0


def test_the_area_estimate_of_an_interval_is_the_largest_error_a_curve_as_steep_as_its_neighbours_can_make():
    # Width 1/4, change 1/8, slope at most 4: the extreme curve rises at slope 4 to its peak at 9/64 and falls at
    # slope 4 to the right end; the area between it and the chord, by hand, is ((4/4)^2 - (1/8)^2) / 16 = 63/1024,
    # above the monotone bound w d = 1/32.
    width, change, steepest = 0.25, 0.125, 4.0
    peak = (steepest * width + change) / (2 * steepest)
    extreme = np.trapezoid([0.0, steepest * peak, change], [0.0, peak, width])
    assert peak == 9 / 64
    assert extreme - width * change / 2 == pytest.approx(63 / 1024)
    assert grids.area_error(width, change, steepest) == pytest.approx(63 / 1024)
    assert grids.area_error(0.25, 0.0, 4.0) == 0.0625  # level ends: 4 x (1/4)^2 / 4
    assert grids.area_error(0.25, 1.0, 4.0) == 0.25  # the steepest interval itself: the monotone bound w d
    assert grids.area_error(0.25, 0.0, 0.0) == 0.0  # level, among level neighbours


def test_a_bump_between_level_ends_is_found():
    # A tolerance no point leaves, so only the area estimate picks. At the start (normalised by Lc - L0 = 2) the
    # ramp [1/4, 1/2] has estimate w d = 1/4 and is split first. Then the ramp halves (w d = 1/16 each), [0, 1/4]
    # and [1/2, 3/4] (level, next to slope 4: 4 (1/4)^2 / 4 = 1/16) tie, taken from 0 up; [0, 1/8] and [1/8, 1/4]
    # fall to 0 and 1/64. So the fifth pick is the middle of [1/2, 3/4], inside the bump. A bound from the ends
    # alone, |L_{k+1} - L_k| w, is 0 there and never measures inside it.
    picked = adaptive_picks(ramp_with_a_bump, budget=10, tolerance=10.0)
    assert picked[:5] == [0.375, 0.125, 0.3125, 0.4375, 0.625]
    assert ramp_with_a_bump(0.625) == 5.0
    assert not any(0.5 < f < 0.75 for f in adaptive_picks(lambda f: ramp_with_a_bump(f) if f <= 0.5 else 3.0,
                                                          budget=10, tolerance=10.0)[:4])


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
