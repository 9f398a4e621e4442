import numpy as np
import pytest
from scipy import stats

from Analysis.statistics import (
    confidence_interval,
    holm_correction,
    kendalls_w,
    mean_spearman,
    paired_test,
    standard_error,
)


def test_holm_correction_matches_a_hand_computation():
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06.
    adjusted = holm_correction([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_correction_caps_at_one_and_skips_nan():
    adjusted = holm_correction([0.6, np.nan, 0.2])
    np.testing.assert_allclose(adjusted, [0.6, np.nan, 0.4])
    np.testing.assert_allclose(holm_correction([0.9, 0.8]), [1.0, 1.0])
    assert holm_correction([]).size == 0


def test_kendalls_w_identical_rankings_is_one_and_reversed_is_zero():
    assert kendalls_w([[0.1, 0.2, 0.3, 0.4]] * 4) == pytest.approx(1.0)
    assert kendalls_w([[1, 2, 3], [3, 2, 1]]) == pytest.approx(0.0)


def test_kendalls_w_matches_hand_computation():
    # Rank sums 4, 6, 8 around 6: S = 8; W = 12 S / (m^2 (n^3 - n)) = 96 / 216.
    assert kendalls_w([[1, 2, 3], [1, 3, 2], [2, 1, 3]]) == pytest.approx(96 / 216)
    # With a tie: ranks [1, 2, 3] and [1.5, 1.5, 3]; S = 6.5, T = 2^3 - 2 = 6; W = 78 / (4 * 24 - 2 * 6).
    assert kendalls_w([[1, 2, 3], [1, 1, 2]]) == pytest.approx(78 / 84)


def test_kendalls_w_is_friedmans_chi_square_over_m_n_minus_one_with_ties():
    # W is by hand only because friedmanchisquare refuses two items; from three items on they agree.
    rng = np.random.default_rng(0)
    for num_raters, num_items in ((2, 3), (4, 5), (6, 3)):
        scores = np.round(rng.standard_normal((num_raters, num_items)), 1)  # rounded: ties happen
        chi_square = stats.friedmanchisquare(*scores.T).statistic
        assert kendalls_w(scores) == pytest.approx(chi_square / (num_raters * (num_items - 1)), rel=1e-12)
    # Two items, a raters preferring the first, b the second, t tying them: W = (a - b)^2 / (m (m - t)).
    assert kendalls_w([[1, 2], [1, 2], [2, 1]]) == pytest.approx(1 / 9)
    assert kendalls_w([[1, 2], [1, 2], [1, 1]]) == pytest.approx(4 / 6)


def test_kendalls_w_undefined_cases_are_nan():
    assert np.isnan(kendalls_w([[1, 2, 3]]))
    assert np.isnan(kendalls_w([[1], [2]]))
    assert np.isnan(kendalls_w([[1, 1], [2, 2]]))
    assert kendalls_w([[1, 2, np.nan], [1, 2, 5]]) == pytest.approx(1.0)


def test_mean_spearman():
    assert mean_spearman([[1, 2, 3], [10, 20, 30], [0, 5, 6]]) == pytest.approx(1.0)
    assert mean_spearman([[1, 2, 3], [3, 2, 1]]) == pytest.approx(-1.0)


def test_t_interval_matches_scipy():
    low, high = confidence_interval([1.0, 2.0, 3.0, 7.0])
    expected = stats.t.interval(0.95, 3, loc=3.25, scale=stats.sem([1.0, 2.0, 3.0, 7.0]))
    np.testing.assert_allclose((low, high), expected)
    assert standard_error([1.0, 2.0, 3.0, 7.0]) == pytest.approx(stats.sem([1.0, 2.0, 3.0, 7.0]))


@pytest.mark.smoke
def test_interval_edge_cases_and_bootstrap():
    assert all(np.isnan(confidence_interval([1.0])))
    assert confidence_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)
    low, high = confidence_interval(np.arange(20.0), method="bootstrap")
    assert low < 9.5 < high
    with pytest.raises(ValueError, match="valid methods"):
        confidence_interval([1.0, 2.0], method="normal")


@pytest.mark.smoke
def test_interval_of_a_bounded_metric_is_the_logit_t_interval_inside_its_bounds():
    values = [0.0, 0.0, 0.0, 0.0, 0.1]  # mean 0.02: the plain t-interval goes below 0
    assert confidence_interval(values)[0] < 0
    low, high = confidence_interval(values, bounds=(0.0, 1.0))
    mean, se, t = 0.02, stats.sem(values), stats.t.ppf(0.975, 4)
    half = t * se / (mean * (1 - mean))  # delta method on logit(mean)
    expected = 1 / (1 + np.exp(-(np.log(mean / (1 - mean)) + np.array([-half, half]))))
    np.testing.assert_allclose((low, high), expected)
    assert 0 < low < mean < high < 1
    low, high = confidence_interval(values, method="bootstrap", bounds=(0.0, 1.0))
    assert 0 <= low <= high <= 0.1
    assert confidence_interval([0.0, 0.0, 0.0], bounds=(0.0, 1.0)) == (0.0, 0.0)
    # Another range maps onto (0, 1) and back.
    low, high = confidence_interval(np.array(values) * 4 + 2, bounds=(2.0, 6.0))
    np.testing.assert_allclose((low, high), expected * 4 + 2)
    with pytest.raises(ValueError, match="outside their bounds"):
        confidence_interval([0.5, 1.5], bounds=(0.0, 1.0))


def test_paired_t_test_matches_scipy_and_effect_size():
    a = np.array([0.30, 0.28, 0.35, 0.31, 0.29])
    b = np.array([0.50, 0.52, 0.47, 0.55, 0.49])
    result = paired_test(a, b)
    assert result.p_value == pytest.approx(stats.ttest_rel(a, b).pvalue)
    d = a - b
    assert result.effect_size == pytest.approx(d.mean() / d.std(ddof=1))
    assert result.rank_biserial == pytest.approx(-1.0)
    assert result.num_pairs == 5


def test_identical_samples_are_never_significant():
    a = np.array([0.3, 0.4, 0.5])
    for test in ("t", "wilcoxon", "permutation"):
        result = paired_test(a, a.copy(), test=test)
        assert result.p_value == 1.0
        assert result.effect_size == 0.0


def test_constant_nonzero_difference_is_a_stated_nan_never_p_zero():
    a = np.array([0.3, 0.4, 0.5, 0.6])
    result = paired_test(a, a + 0.25)
    assert np.isnan(result.p_value) and np.isnan(result.effect_size) and np.isnan(result.statistic)
    assert "constant paired differences" in result.reason
    wilcoxon = paired_test(a, a + 0.25, test="wilcoxon")
    assert wilcoxon.p_value == pytest.approx(2 / 2 ** 4) and np.isnan(wilcoxon.effect_size)
    assert paired_test(a, a + 0.25, test="permutation").p_value == pytest.approx(2 / 2 ** 4)


def test_two_trials_of_constant_difference_are_not_kept_significant_by_holm():
    # Two trials of 0.038 against 0.019: before, p = 0 and d_z = inf, and Holm kept it "significant".
    constant = paired_test(np.array([0.038, 0.038]), np.array([0.019, 0.019]))
    ordinary = paired_test(np.array([0.5, 0.7, 0.6]), np.array([0.1, 0.2, 0.15]))
    adjusted = holm_correction([constant.p_value, ordinary.p_value])
    assert np.isnan(adjusted[0])
    assert adjusted[1] == pytest.approx(ordinary.p_value)  # family of one valid p-value


def test_identical_samples_state_their_exact_result():
    result = paired_test(np.array([0.3, 0.4]), np.array([0.3, 0.4]))
    assert (result.p_value, result.effect_size) == (1.0, 0.0) and "identical" in result.reason


def test_zero_width_interval_is_not_printed_as_an_interval():
    from Analysis.summary import interval_text
    low, high = confidence_interval([0.038, 0.038, 0.038])
    assert interval_text(0.038, low, high) == "0.038 (all trials equal)"
    assert interval_text(0.5, 0.4, 0.6) == "0.500 [0.400, 0.600]"


@pytest.mark.smoke
def test_rank_tests_cannot_reach_five_percent_with_five_trials():
    a, b = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.zeros(5)
    assert paired_test(a, b, test="wilcoxon").p_value == pytest.approx(0.0625)
    assert paired_test(a, b, test="permutation").p_value == pytest.approx(2 / 32)
    assert paired_test(a, b, test="t").p_value < 0.05


def test_too_few_pairs_and_nan_pairs():
    result = paired_test([1.0, np.nan], [2.0, 3.0])
    assert result.num_pairs == 1 and np.isnan(result.p_value)
    with pytest.raises(ValueError, match="valid tests"):
        paired_test([1.0, 2.0], [1.0, 2.0], test="z")


def test_tolerance_crossing_interpolates_between_the_points_around_it():
    from Analysis.metrics import max_fraction_within_tolerance, tolerance_crossing
    fractions = np.array([0.0, 0.1, 0.2, 0.3])
    losses = np.array([1.0, 1.02, 1.10, 2.0])  # limit 1.05 (5 %): crossed between 0.1 (1.02) and 0.2 (1.10)
    # by hand: 0.1 + (1.05 - 1.02) / (1.10 - 1.02) * 0.1 = 0.1375
    assert tolerance_crossing(fractions, losses, 1.0, 0.05) == pytest.approx(0.1375)
    assert max_fraction_within_tolerance(fractions, losses, 1.0, 0.05) == pytest.approx(0.1)  # unchanged
    assert tolerance_crossing(fractions, np.array([1.0, 1.0, 1.01, 1.04]), 1.0, 0.05) == 1.0  # never crossed
    # first point beyond the limit: interpolated from (0, L0): 0.1 * (1.05 - 1) / (1.25 - 1) = 0.02
    assert tolerance_crossing(np.array([0.1, 0.2]), np.array([1.25, 2.0]), 1.0, 0.05) == pytest.approx(0.02)
    # a NaN loss beyond the limit leaves nothing to interpolate towards: the last point within it
    assert tolerance_crossing(fractions, np.array([1.0, 1.02, np.nan, 2.0]), 1.0, 0.05) == pytest.approx(0.1)
