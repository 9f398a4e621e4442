import numpy as np
import pytest

from Analysis.metrics import curve_auc, max_fraction_within_tolerance, normalized_auc, trial_metrics


@pytest.mark.smoke
def test_linear_curve_from_trained_to_chance_has_normalized_auc_one_half():
    fractions = np.linspace(0, 1, 11)
    values = 0.4 + (2.3 - 0.4) * fractions
    assert curve_auc(fractions, values) == pytest.approx((0.4 + 2.3) / 2)
    assert normalized_auc(fractions, values, 0.4, 2.3) == pytest.approx(0.5)


def test_flat_and_chance_curves_give_zero_and_one():
    fractions = np.linspace(0, 1, 6)
    assert normalized_auc(fractions, np.full(6, 1.0), 1.0, 3.0) == pytest.approx(0.0)
    assert normalized_auc(fractions, np.r_[1.0, np.full(5, 3.0)], 1.0, 3.0) == pytest.approx(0.9)


def test_area_is_over_fraction_actually_removed_and_unsorted_points_are_sorted():
    fractions = np.array([0.5, 0.0, 0.25])
    values = np.array([2.0, 1.0, 1.0])
    # Trapezoids over [0, 0.25] at height 1 and [0.25, 0.5] from 1 to 2.
    assert curve_auc(fractions, values) == pytest.approx(0.25 + 0.25 * 1.5)


def test_normalized_auc_completes_the_curve_with_the_known_end_points():
    fractions = np.array([0.0, 0.25, 0.5])
    values = 1.0 + 2.0 * fractions  # linear from L0 = 1 towards Lc = 3
    assert curve_auc(fractions, values) == pytest.approx(0.5 * (1.0 + 2.0) / 2)
    assert normalized_auc(fractions, values, 1.0, 3.0) == pytest.approx(0.5)
    # Loss flat at L0 up to 0.9, then chance at 1: area L0 + 0.1 (Lc - L0) / 2.
    fractions = np.r_[np.linspace(0, 0.9, 10), 1.0]
    values = np.r_[np.full(10, 1.0), 3.0]
    assert normalized_auc(fractions, values, 1.0, 3.0) == pytest.approx(0.05)


def test_normalized_auc_is_undefined_when_chance_is_not_above_the_trained_loss():
    fractions = np.linspace(0, 1, 5)
    assert np.isnan(normalized_auc(fractions, np.full(5, 2.0), 2.0, 2.0))
    assert np.isnan(normalized_auc(fractions, np.full(5, 2.0), 2.0, 1.0))


def test_max_fraction_within_tolerance_stops_at_the_first_threshold_that_exceeds_it():
    fractions = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    values = np.array([1.0, 1.02, 1.04, 1.2, 1.01])  # limit 1.05; the later dip does not count
    assert max_fraction_within_tolerance(fractions, values, 1.0, tolerance=0.05) == pytest.approx(0.2)
    assert max_fraction_within_tolerance(fractions, values, 1.0, tolerance=0.25) == pytest.approx(0.4)
    assert max_fraction_within_tolerance(fractions, values, 1.0, tolerance=0.0) == pytest.approx(0.0)


def test_max_fraction_within_tolerance_relative_to_the_gap_to_chance():
    fractions = np.array([0.0, 0.5, 1.0])
    values = np.array([1.0, 1.15, 3.0])  # limit L0 + 0.1 (Lc - L0) = 1.2
    assert max_fraction_within_tolerance(fractions, values, 1.0, 0.1, chance_loss=3.0,
                                         tolerance_reference="chance") == pytest.approx(0.5)
    assert max_fraction_within_tolerance(fractions, values, 1.0, 0.1) == pytest.approx(0.0)


def test_nan_loss_counts_as_exceeding_the_tolerance():
    assert max_fraction_within_tolerance([0.0, 0.5, 1.0], [1.0, np.nan, 1.0], 1.0) == pytest.approx(0.0)


def test_bad_tolerance_options_are_rejected_with_the_valid_choices():
    with pytest.raises(ValueError, match="valid ones are"):
        max_fraction_within_tolerance([0.0], [1.0], 1.0, tolerance_reference="relative")
    with pytest.raises(ValueError, match="non-negative"):
        max_fraction_within_tolerance([0.0], [1.0], 1.0, tolerance=-1)


@pytest.mark.smoke
def test_trial_metrics_one_row_per_trial_and_curve(make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=3, spread=0.0)
    metrics = trial_metrics(results)
    assert len(metrics) == 3 * 2 * 2  # trials x measures x orders
    random = metrics[metrics["measure"] == "random"]
    np.testing.assert_allclose(random["normalized_auc"], 0.5, atol=1e-12)
    np.testing.assert_allclose(random["initial_loss"], 0.5)
    np.testing.assert_allclose(random["chance_loss"], 2.5)
    least = metrics[(metrics["measure"] == "magnitude") & (metrics["order"] == "least")]
    # L0 + 2 f^3 stays within 0.525 up to f = 0.2 (0.516) and exceeds it at 0.3 (0.554).
    np.testing.assert_allclose(least["max_fraction_within_tolerance"], 0.2)
    # Exact area of f^3 on the grid of 11 points by the trapezoid rule.
    grid = np.linspace(0, 1, 11)
    np.testing.assert_allclose(least["normalized_auc"], np.trapezoid(grid ** 3, grid))


def test_initial_loss_falls_back_to_the_other_curves_of_the_trial(make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=1, orders=("least",), spread=0.0)
    results = results[~((results["measure"] == "magnitude") & (results["threshold"] == 0))]
    metrics = trial_metrics(results).set_index("measure")
    assert metrics.loc["magnitude", "initial_loss"] == pytest.approx(0.5)
    assert metrics.loc["magnitude", "min_fraction"] == pytest.approx(0.1)
    assert np.isfinite(metrics.loc["magnitude", "normalized_auc"])


def test_undefined_normalized_auc_warns_and_gives_nan(make_results):
    results = make_results({"random": 1.0}, num_trials=2, orders=("least",))
    results["chance_val_loss"] = 0.1
    with pytest.warns(UserWarning, match="undefined"):
        metrics = trial_metrics(results)
    assert metrics["normalized_auc"].isna().all()
    assert metrics["auc"].notna().all()
