"""Curves whose thresholds differ between curves and trials (``threshold_spacing`` ``geometric``/``adaptive``):
per-trial metrics from each curve's own points, mean curves on the union of thresholds, rankings and tests."""

import numpy as np
import pandas as pd
import pytest

from Analysis.curves import compute_curves
from Analysis.metrics import trial_metrics
from Analysis.thresholding import analyze

L0, LC = 0.5, 2.5


def curve_rows(trial, measure, points, order="least"):
    """Rows of one hand-made curve: ``points`` are (threshold = fraction removed, val_loss)."""
    return [{"trial": trial, "seed": trial, "task": "digits", "epoch": 1, "measure": measure,
             "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer", "order": order,
             "parameters": "all", "replacement": "noise", "threshold": f, "fraction_removed": f, "loss": v,
             "accuracy": np.nan, "val_loss": v, "val_accuracy": np.nan, "chance_val_loss": LC} for f, v in points]


def test_metrics_of_geometric_and_adaptive_curves_equal_hand_computations():
    geometric = [(0.0, 0.5), (0.01, 0.5), (0.03, 0.51), (0.1, 0.52), (0.3, 0.6), (1.0, 2.5)]
    adaptive = [(0.0, 0.5), (0.25, 0.52), (0.375, 0.54), (0.5, 1.0), (0.75, 2.0), (1.0, 2.5)]
    results = pd.DataFrame(curve_rows(0, "geometric", geometric) + curve_rows(0, "adaptive", adaptive))
    metrics = trial_metrics(results).set_index("measure")

    # Trapezoids by hand over each curve's own points.
    auc = (0.01 * (0.5 + 0.5) + 0.02 * (0.5 + 0.51) + 0.07 * (0.51 + 0.52) + 0.2 * (0.52 + 0.6)
           + 0.7 * (0.6 + 2.5)) / 2
    assert metrics.loc["geometric", "auc"] == pytest.approx(auc)
    assert metrics.loc["geometric", "normalized_auc"] == pytest.approx((auc - L0) / (LC - L0))
    # Limit 0.5 * 1.05 = 0.525: 0.52 at 0.1 is within, 0.6 at 0.3 is not.
    assert metrics.loc["geometric", "max_fraction_within_tolerance"] == pytest.approx(0.1)

    auc = (0.25 * (0.5 + 0.52) + 0.125 * (0.52 + 0.54) + 0.125 * (0.54 + 1.0) + 0.25 * (1.0 + 2.0)
           + 0.25 * (2.0 + 2.5)) / 2
    assert metrics.loc["adaptive", "auc"] == pytest.approx(auc)
    assert metrics.loc["adaptive", "normalized_auc"] == pytest.approx((auc - L0) / (LC - L0))
    assert metrics.loc["adaptive", "max_fraction_within_tolerance"] == pytest.approx(0.25)  # 0.54 > 0.525
    assert list(metrics["num_points"]) == [6, 6]


def test_a_curve_without_its_end_points_is_completed_for_the_normalized_auc_only():
    points = [(0.0, 0.5), (0.2, 0.5), (0.6, 1.5)]  # stopped at 0.6; (1, Lc) completes the curve
    metrics = trial_metrics(pd.DataFrame(curve_rows(0, "short", points))).iloc[0]
    assert metrics["auc"] == pytest.approx(0.2 * 0.5 + 0.4 * (0.5 + 1.5) / 2)
    area = 0.2 * 0.5 + 0.4 * (0.5 + 1.5) / 2 + 0.4 * (1.5 + 2.5) / 2
    assert metrics["normalized_auc"] == pytest.approx((area - L0) / (LC - L0))


def test_mean_curves_interpolate_each_trial_at_the_union_of_thresholds():
    results = pd.DataFrame(curve_rows(0, "m", [(0.0, 0.5), (0.5, 1.5), (1.0, 2.5)])
                           + curve_rows(1, "m", [(0.0, 0.7), (0.25, 0.7), (1.0, 2.5)]))
    curves = compute_curves(results).set_index("threshold")
    assert list(curves.index) == [0.0, 0.25, 0.5, 1.0]
    # Trial 0 interpolated at 0.25: 1.0; trial 1 at 0.5: 0.7 + (2.5 - 0.7) / 3 = 1.3.
    assert curves.loc[0.25, "mean"] == pytest.approx((1.0 + 0.7) / 2)
    assert curves.loc[0.5, "mean"] == pytest.approx((1.5 + 1.3) / 2)
    assert curves.loc[0.5, "std"] == pytest.approx(np.std([1.5, 1.3], ddof=1))
    assert list(curves["num_trials"]) == [2, 2, 2, 2]
    assert list(curves["num_measured"]) == [2, 1, 1, 2]
    assert curves["chance_loss"].eq(LC).all()


def test_mean_curves_never_extrapolate_beyond_a_trials_measured_range():
    results = pd.DataFrame(curve_rows(0, "m", [(0.0, 0.5), (0.5, 1.5), (1.0, 2.5)])
                           + curve_rows(1, "m", [(0.0, 0.7), (0.25, 0.9)]))  # trial 1 cut short
    curves = compute_curves(results).set_index("threshold")
    assert curves.loc[1.0, "num_trials"] == 1 and curves.loc[1.0, "mean"] == pytest.approx(2.5)
    assert np.isnan(curves.loc[1.0, "standard_error"])


def test_mean_curves_of_an_even_grid_are_the_means_per_threshold(make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=3)
    curves = compute_curves(results)
    results = results.assign(threshold=results["threshold"].round(10))
    expected = results.groupby(["measure", "order", "threshold"])["val_loss"].agg(["mean", "std"]).reset_index()
    merged = curves.merge(expected, on=["measure", "order", "threshold"], suffixes=("", "_expected"))
    assert len(merged) == len(curves) == 2 * 2 * 11
    np.testing.assert_allclose(merged["mean"], merged["mean_expected"], atol=1e-12)
    np.testing.assert_allclose(merged["std"], merged["std_expected"], atol=1e-12)
    assert (curves["num_measured"] == 3).all()


def test_rankings_and_tests_of_uneven_curves_come_from_the_per_trial_metrics(make_results, make_uneven_results):
    results = make_uneven_results(make_results({"random": 1.0, "fisher": 2.0, "magnitude": 4.0}, num_trials=4,
                                               num_thresholds=33), num_kept=9)
    assert results.groupby(["trial", "measure", "order"])["threshold"].apply(frozenset).nunique() > 1
    analysis = analyze(results)
    metrics = trial_metrics(results)
    means = metrics.groupby(["measure", "order"])["normalized_auc"].mean()
    summary = analysis.summary.set_index(["measure", "order"])
    np.testing.assert_allclose(summary.loc[means.index, "normalized_auc_mean"], means)
    for order in ("least", "most"):
        ranked = summary.xs(order, level="order")["rank"].sort_values()
        assert list(ranked.index) == ["magnitude", "fisher", "random"]
    least = analysis.comparisons[analysis.comparisons["order"] == "least"].set_index(["measure_a", "measure_b"])
    assert least.loc[("magnitude", "random"), "better"] == "magnitude"
