"""Statistics used across the analysis: confidence intervals, paired tests, Holm correction, rank agreement.

Plain functions over arrays, independent of the results' columns, so that other analyses (for example of
sequential learning) can use them too.

Choices
-------
- Confidence interval of a mean across trials: Student's t-interval ``mean ± t_{(1+c)/2, n-1} · s / sqrt(n)``
  (default), or a percentile bootstrap of the mean. For a metric bounded to ``[lo, hi]`` (a fraction), the
  t-interval is taken on the logit scale of ``p = (mean - lo) / (hi - lo)`` with the delta-method standard error
  ``se / (p (1 - p) (hi - lo))`` and mapped back, so it lies inside the bounds without clipping; the percentile
  bootstrap of a bounded metric is inside them by construction.
- Paired tests across trials (the same trial scores both measures): the paired t-test is the default because it can
  reach p < 0.05 with 3 to 5 trials. The exact Wilcoxon signed-rank test and the exact sign-flip permutation test
  have a smallest two-sided p-value of ``2 / 2**n`` (0.0625 with 5 trials), so they cannot show significance below
  6 trials; both are available.
- Effect size: Cohen's ``d_z = mean(d) / sd(d)`` of the paired differences ``d`` (Cohen 1988), and the matched-pairs
  rank-biserial correlation ``r = (W+ - W-) / (W+ + W-)`` (Kerby 2014).
- Multiple comparisons: Holm's step-down correction (Holm 1979), controlling the family-wise error rate.
- Mean of correlations over trials: Fisher's z (``artanh``) of each trial's correlation, the t-interval and the
  one-sample t-test of the z values, mapped back by ``tanh`` (``fisher_z_interval``).
- Agreement of rankings: Kendall's coefficient of concordance W with the correction for ties (Kendall & Babington
  Smith 1939), and the mean Spearman correlation over pairs of raters.

SciPy computes whatever it has (the intervals, the standard error, the tests, Spearman's ρ); what is written here
by hand is what it lacks, and each such function says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

PAIRED_TESTS = ("t", "wilcoxon", "permutation")
CI_METHODS = ("t", "bootstrap")
EXACT_PERMUTATION_MAX_PAIRS = 16


def confidence_interval(values, confidence: float = 0.95, method: str = "t", num_resamples: int = 10000,
                        seed: int = 0, bounds: tuple[float, float] | None = None) -> tuple[float, float]:
    """Two-sided ``confidence`` interval of the mean of ``values`` (NaNs ignored).

    ``method="t"``: Student's t-interval; with ``bounds=(lo, hi)``, the logit-transformed t-interval (module
    docstring), inside ``(lo, hi)``. ``method="bootstrap"``: percentile interval of ``num_resamples`` bootstrap
    means. (NaN, NaN) with fewer than two values; (mean, mean) when all values are equal. Values outside
    ``bounds`` raise ``ValueError``.
    """
    if method not in CI_METHODS:
        raise ValueError(f"Unknown confidence interval method {method!r}; valid methods are {list(CI_METHODS)}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    outside = values[(values < bounds[0]) | (values > bounds[1])] if bounds is not None else values[:0]
    if outside.size:
        raise ValueError(f"Values outside their bounds {list(bounds)}, e.g. {outside[:3].tolist()}.")
    if values.size < 2:
        return (np.nan, np.nan)
    mean = float(values.mean())
    if np.all(values == values[0]):
        return (mean, mean)
    if method == "t" and bounds is not None:
        low, high = _logit_interval(mean, float(stats.sem(values)), values.size, confidence, bounds)
    elif method == "t":
        low, high = stats.t.interval(confidence, values.size - 1, loc=mean, scale=stats.sem(values))
    else:
        low, high = stats.bootstrap((values,), np.mean, n_resamples=num_resamples, confidence_level=confidence,
                                    method="percentile", rng=np.random.default_rng(seed)).confidence_interval
    return (float(low), float(high))


def _logit_interval(mean: float, sem: float, count: int, confidence: float,
                    bounds: tuple[float, float]) -> tuple[float, float]:
    """By hand (SciPy has no transformed interval): the t-interval of the mean on the logit scale of the bounded
    range, delta-method standard error, mapped back. The mean lies strictly inside the bounds here (values not all
    equal), so the logit is finite."""
    low_bound, high_bound = bounds
    width = high_bound - low_bound
    p = (mean - low_bound) / width
    half = stats.t.ppf((1 + confidence) / 2, count - 1) * sem / (p * (1 - p) * width)
    centre = np.log(p / (1 - p))
    low, high = stats.logistic.cdf([centre - half, centre + half])
    return (low_bound + width * float(low), low_bound + width * float(high))


def summarize_values(values, confidence: float = 0.95, method: str = "t",
                     bounds: tuple[float, float] | None = None) -> dict[str, float]:
    """``mean``, ``std`` (ddof 1) and the ``confidence`` interval ``ci_low``, ``ci_high`` of the mean
    (``confidence_interval``, within ``bounds`` if given) of ``values``, NaNs ignored; each NaN where too few
    values define it."""
    values = np.asarray(values, dtype=float)
    finite = values[~np.isnan(values)]
    low, high = confidence_interval(values, confidence, method, bounds=bounds)
    return {"mean": float(finite.mean()) if finite.size else np.nan,
            "std": float(finite.std(ddof=1)) if finite.size > 1 else np.nan, "ci_low": low, "ci_high": high}


def standard_error(values) -> float:
    """Standard error of the mean, ``s / sqrt(n)`` (NaNs ignored; NaN with fewer than two values)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size < 2:
        return np.nan
    return float(stats.sem(values))


@dataclass(frozen=True)
class PairedTestResult:
    """Outcome of a paired test of ``a`` against ``b`` (differences ``d = a - b``)."""

    test: str
    num_pairs: int
    mean_difference: float
    statistic: float
    p_value: float
    effect_size: float      # Cohen's d_z = mean(d) / sd(d)
    rank_biserial: float    # (W+ - W-) / (W+ + W-)
    reason: str = ""        # why a NaN or exact result was returned instead of the test's usual one; "" if none


def paired_test(a, b, test: str = "t", num_permutations: int = 10000, seed: int = 0) -> PairedTestResult:
    """Two-sided paired test of ``a`` against ``b`` (equal-length arrays; pairs with a NaN are dropped).

    ``test``: ``"t"`` (paired t-test, default), ``"wilcoxon"`` (signed-rank; exact for small samples without ties
    or zeros) or ``"permutation"`` (sign flips of the differences, on their mean; exact, all ``2**n`` flips, up to
    16 pairs, else ``num_permutations`` random ones).

    Degenerate inputs give a stated result (``reason`` says which), never ``p = 0`` with ``d_z = ±inf``:
    identical samples give p = 1 and effect size 0 exactly; fewer than two pairs give NaN; constant nonzero
    differences (zero variance, up to rounding) leave ``sd(d) = 0``, so ``d_z`` and the t statistic are undefined
    and both, with the t-test's p, are NaN (NaN p-values are left out of a Holm family, so they are never kept
    "significant"); the rank tests stay defined there (all differences share one sign) and keep their exact p.
    """
    if test not in PAIRED_TESTS:
        raise ValueError(f"Unknown paired test {test!r}; valid tests are {list(PAIRED_TESTS)}.")
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"A paired test needs two 1-D arrays of equal length, got shapes {a.shape} and {b.shape}.")
    keep = ~(np.isnan(a) | np.isnan(b))
    d = a[keep] - b[keep]
    n = int(d.size)
    if n < 2:
        mean = float(d.mean()) if n else np.nan
        return PairedTestResult(test, n, mean, np.nan, np.nan, np.nan, np.nan,
                                f"fewer than two complete pairs ({n}): no test is defined")
    mean = float(d.mean())
    if np.all(d == 0):
        return PairedTestResult(test, n, 0.0, 0.0, 1.0, 0.0, 0.0, "identical samples: p = 1, effect size 0 exactly")
    sd = float(d.std(ddof=1))
    reason = ""
    if sd <= 1e-12 * abs(mean):  # constant differences up to rounding
        sd = 0.0
        reason = "constant paired differences (zero variance): d_z and the t statistic are undefined"
    effect_size = mean / sd if sd > 0 else np.nan
    rank_biserial = _rank_biserial(d)
    if test == "t" and sd == 0:
        statistic, p_value = np.nan, np.nan
    elif test == "t":
        result = stats.ttest_rel(a[keep], b[keep])
        statistic, p_value = float(result.statistic), float(result.pvalue)
    elif test == "wilcoxon":
        result = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    else:
        # One sample with permutation_type="samples": the null distribution flips the sign of each difference.
        exact = n <= EXACT_PERMUTATION_MAX_PAIRS
        result = stats.permutation_test((d,), np.mean, permutation_type="samples",
                                        n_resamples=np.inf if exact else num_permutations, alternative="two-sided",
                                        rng=np.random.default_rng(seed))
        statistic, p_value = mean, float(result.pvalue)
    return PairedTestResult(test, n, mean, float(statistic), float(np.minimum(1.0, p_value)), float(effect_size),
                            rank_biserial, reason)


def _rank_biserial(d: np.ndarray) -> float:
    """(W+ - W-) / (W+ + W-) of the nonzero differences; by hand, as SciPy's wilcoxon returns only min(W+, W-)."""
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 0.0
    ranks = stats.rankdata(np.abs(nonzero))
    positive, negative = ranks[nonzero > 0].sum(), ranks[nonzero < 0].sum()
    return float((positive - negative) / (positive + negative))


def holm_correction(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: ``p_(i) -> max_{j<=i} min(1, (m - j + 1) p_(j))`` over sorted p-values.

    By hand: SciPy has no Holm correction (``false_discovery_control`` does Benjamini-Hochberg and -Yekutieli
    only). NaN p-values are left NaN and do not count in the family size ``m``.
    """
    p_values = np.asarray(p_values, dtype=float)
    adjusted = np.full(p_values.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p_values))
    if valid.size == 0:
        return adjusted
    order = valid[np.argsort(p_values[valid], kind="stable")]
    m = valid.size
    scaled = np.minimum(1.0, (m - np.arange(m)) * p_values[order])
    adjusted[order] = np.maximum.accumulate(scaled)
    return adjusted


def fisher_z_interval(correlations, confidence: float = 0.95, num_items: int | None = None) -> dict[str, float]:
    """Per-trial correlations ``r_i`` (NaNs ignored) summarised on Fisher's z scale (Fisher 1921):
    ``z_i = artanh(r_i)``, ``estimate = tanh(mean z)``, the interval ``tanh(mean z ± t_{(1+c)/2, k-1} s_z / sqrt(k))``
    and the two-sided one-sample t-test of ``z`` against 0 (``p_value``, k - 1 degrees of freedom).

    What it covers: ``tanh(E[artanh r])`` of one trial's correlation ``r`` (the trials independent draws of the
    same experiment), i.e. the typical per-trial correlation on the z scale; not the population correlation of
    the scores themselves, which a per-trial Spearman ρ over few items estimates with a bias. The t-interval is
    exact for normal ``z_i``; z is near normal for a correlation over a handful of items (for Spearman's ρ its
    variance is about 1.06 / (n - 3), Fieller, Hartley & Pearson 1957), and the spread ``s_z`` is the observed one,
    so between-trial variation is included. A rank correlation can be exactly ±1 over ``num_items`` items, where z
    is infinite: such values are taken as ±(1 - 6 / (n^3 - n)), halfway to the nearest value Spearman's ρ can take
    (``num_items`` is then required). ``estimate`` NaN without values, the interval and p NaN with fewer than two;
    equal values give the interval (r, r) and p NaN (the t statistic is undefined). SciPy gives the t-test and
    its interval; the transformation is by hand.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}.")
    r = np.asarray(correlations, dtype=float)
    r = r[~np.isnan(r)]
    if np.any(np.abs(r) > 1):
        raise ValueError(f"Correlations lie in [-1, 1]; got {r[np.abs(r) > 1][:3].tolist()}.")
    if np.any(np.abs(r) == 1):
        if num_items is None or num_items < 3:
            raise ValueError("A correlation of ±1 has an infinite Fisher z; give num_items (at least 3), the items "
                             "each correlation is over, to take it halfway to the nearest Spearman value.")
        r = np.clip(r, -1 + 6 / (num_items ** 3 - num_items), 1 - 6 / (num_items ** 3 - num_items))
    z = np.arctanh(r)
    found = {"estimate": float(np.tanh(z.mean())) if z.size else np.nan, "ci_low": np.nan, "ci_high": np.nan,
             "p_value": np.nan, "num_trials": int(z.size)}
    if z.size < 2:
        return found
    if np.all(z == z[0]):
        return {**found, "ci_low": float(r[0]), "ci_high": float(r[0])}
    test = stats.ttest_1samp(z, 0.0)
    low, high = test.confidence_interval(confidence)
    return {**found, "ci_low": float(np.tanh(low)), "ci_high": float(np.tanh(high)), "p_value": float(test.pvalue)}


def kendalls_w(scores) -> float:
    """Kendall's W of a ``raters x items`` array of scores (each row is ranked; ties get average ranks).

    ``W = 12 S / (m^2 (n^3 - n) - m sum_j T_j)`` with ``S = sum_i (R_i - m (n + 1) / 2)^2``, ``R_i`` the rank sum of
    item ``i`` over the ``m`` raters, and ``T_j = sum (t^3 - t)`` over the groups of ``t`` tied items of rater ``j``.
    1 = every rater ranks the items the same way, 0 = no agreement. Items with a NaN score for any rater are
    dropped. NaN with fewer than two raters or items, or when every rater ties every item.

    By hand: ``scipy.stats.friedmanchisquare`` gives the same W as ``chi2 / (m (n - 1))`` (its tie correction is the
    same), but it refuses fewer than three items, as in a comparison of one measure with ``random``.
    """
    ranks = _ranks(scores)
    if ranks is None:
        return np.nan
    m, n = ranks.shape
    rank_sums = ranks.sum(axis=0)
    s = float(np.sum((rank_sums - m * (n + 1) / 2) ** 2))
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts ** 3 - counts))
    denominator = m ** 2 * (n ** 3 - n) - m * ties
    if denominator <= 0:
        return np.nan
    return float(12 * s / denominator)


def mean_spearman(scores) -> float:
    """Mean Spearman correlation between the rankings of every pair of raters (rows) of a ``raters x items`` array.

    Items with a NaN for any rater are dropped; pairs involving a rater who ties every item are skipped.
    """
    ranks = _ranks(scores)
    if ranks is None:
        return np.nan
    ranks = ranks[np.ptp(ranks, axis=1) > 0]  # a rater who ties every item correlates with no one
    if len(ranks) < 2:
        return np.nan
    correlations = np.atleast_2d(stats.spearmanr(ranks, axis=1).statistic)
    if correlations.size == 1:
        return float(correlations[0, 0])
    return float(correlations[np.triu_indices(len(ranks), 1)].mean())


def _ranks(scores) -> np.ndarray | None:
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"Scores must be a 2-D raters x items array, got shape {scores.shape}.")
    scores = scores[:, ~np.isnan(scores).any(axis=0)]
    if scores.shape[0] < 2 or scores.shape[1] < 2:
        return None
    return np.vstack([stats.rankdata(row) for row in scores])
