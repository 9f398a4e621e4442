"""The interval stated for the bridge study's agreement holds its coverage with few trials: simulated trials of
bivariate-normal scores of n measures with a known population correlation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from Analysis.statistics import fisher_z_interval

NUM_MEASURES = 10
NUM_SIMULATIONS = 400


def per_trial_spearman(rng, rho: float, shape: tuple[int, ...]) -> np.ndarray:
    """Spearman's ρ over ``NUM_MEASURES`` measures whose two scores are bivariate normal with correlation ``rho``,
    for every index of ``shape`` (independent trials)."""
    x = rng.standard_normal((*shape, NUM_MEASURES))
    y = rho * x + np.sqrt(1 - rho ** 2) * rng.standard_normal(x.shape)
    rx, ry = stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1)
    rx, ry = rx - rx.mean(axis=-1, keepdims=True), ry - ry.mean(axis=-1, keepdims=True)
    return (rx * ry).sum(axis=-1) / np.sqrt((rx ** 2).sum(axis=-1) * (ry ** 2).sum(axis=-1))


def target(rng, rho: float) -> float:
    """The quantity ``fisher_z_interval`` covers, tanh(E[artanh r]) of one trial's ρ (with its clipping of ±1), by
    Monte Carlo over 200 000 trials (its standard error is about 0.001)."""
    r = per_trial_spearman(rng, rho, (200_000,))
    bound = 1 - 6 / (NUM_MEASURES ** 3 - NUM_MEASURES)
    return float(np.tanh(np.arctanh(np.clip(r, -bound, bound)).mean()))


@pytest.mark.parametrize("num_trials", [5, 8])
@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_the_fisher_z_interval_covers_the_per_trial_correlation_at_its_stated_level(num_trials, rho):
    rng = np.random.default_rng(1000 * num_trials + int(10 * rho))
    truth = target(rng, rho)
    trials = per_trial_spearman(rng, rho, (NUM_SIMULATIONS, num_trials))
    intervals = np.array([[(found := fisher_z_interval(r, 0.95, NUM_MEASURES))["ci_low"], found["ci_high"]]
                          for r in trials])
    coverage = np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1]))
    assert abs(coverage - 0.95) <= 0.03, coverage
    # The percentile bootstrap of the mean per-trial ρ, the interval this replaced, does not hold it with 5 trials.
    if num_trials == 5:
        draws = trials[:, rng.integers(0, num_trials, (2000, num_trials))].mean(axis=-1)
        low, high = np.quantile(draws, [0.025, 0.975], axis=1)
        assert np.mean((low <= truth) & (truth <= high)) < 0.90


def test_the_fisher_z_summary_is_the_hand_computation():
    r = np.array([0.2, 0.5, 0.7, np.nan])
    z = np.arctanh(r[:3])
    half = stats.t.ppf(0.975, 2) * z.std(ddof=1) / np.sqrt(3)
    found = fisher_z_interval(r)
    assert found["estimate"] == pytest.approx(np.tanh(z.mean()))
    assert (found["ci_low"], found["ci_high"]) == pytest.approx((np.tanh(z.mean() - half), np.tanh(z.mean() + half)))
    t = z.mean() / (z.std(ddof=1) / np.sqrt(3))
    assert found["p_value"] == pytest.approx(2 * stats.t.sf(abs(t), 2))
    assert found["num_trials"] == 3
    # ρ = 1 over 4 items is taken as 1 - 6 / 60 = 0.9, halfway to the next value Spearman's ρ can take (0.8).
    assert fisher_z_interval([1.0, 0.8], num_items=4)["estimate"] == pytest.approx(np.tanh(np.arctanh([0.9, 0.8]).mean()))
    with pytest.raises(ValueError, match="num_items"):
        fisher_z_interval([1.0, 0.5])
    equal = fisher_z_interval([0.4, 0.4])
    assert (equal["ci_low"], equal["ci_high"]) == (0.4, 0.4) and np.isnan(equal["p_value"])
    assert np.isnan(fisher_z_interval([0.3])["ci_low"])
