"""Where on a curve the thresholds go: the fractions of the thresholded parameters removed.

- ``linear`` (default): ``n`` evenly spaced fractions from 0 to 1.
- ``geometric``: 0, then ``n - 1`` fractions spaced geometrically from ``GEOMETRIC_SMALLEST`` (1 %) to 1: dense
  near 0, where least-first curves have their knee.
- ``adaptive``: per curve, start from the thresholds ``ADAPTIVE_START`` (0, 1/4, 1/2, 3/4, 1) and spend the rest
  of the budget of ``n`` evaluations where the curve is least known, in ``f``, the ``fraction_removed`` its metrics
  integrate over (at unit, filter or layer level a threshold and the fraction it removes differ). With the
  points ``(f_k, L_k)`` measured so far sorted by ``f``, ``y_k = (L_k - L0) / |Lc - L0|`` the normalised loss
  (``L0``: the loss at threshold 0, ``Lc``: at threshold 1), ``w_k = f_{k+1} - f_k``, ``s_k = (y_{k+1} - y_k) / w_k``
  the slope of interval ``k`` and

      D_j = 2 (s_j - s_{j-1}) / (f_{j+1} - f_{j-1}),    C_k = max(|D_k|, |D_{k+1}|)

  (``D_j``: the second derivative of the parabola through the points ``j - 1``, ``j``, ``j + 1``, twice their
  second divided difference; ``C_k``: the larger of the two parabolas through interval ``k`` and one neighbour,
  only the one that exists for the first and the last interval):

  1. *Crossing.* The tolerance band is ``L <= L0 + tolerance |L0|`` (``tolerance``: ``adaptive_tolerance`` of the
     configuration, by default the analysis' ``Schema.DEFAULT_TOLERANCE``). The analysis reads the largest
     fraction removed within it as the point before the first measured point above the band, so that is known to
     within the width of the interval ending there, provided no earlier interval rises above the band between
     its two points. An earlier interval may do so where a parabola through it and a neighbour is concave:
     where ``max(y_k, y_{k+1}) + R_k`` exceeds the band, ``R_k = max(0, -D_k, -D_{k+1}) w_k^2 / 8`` being the
     largest rise of such a parabola above the chord (a convex one stays below it). The first interval that may
     hold the crossing, the one ending at the first point above the band or an earlier one that may rise above
     it, is halved first, until every such interval is at most ``ADAPTIVE_CROSSING_WIDTH`` (a hundredth) wide, so
     the error of the largest fraction within the tolerance is at most a hundredth. (Halving 1/4 five times gives
     2^-7; the bound is not 2^-7 itself because a removal step's fraction is seldom dyadic, and one that is a hair
     wider would cost another evaluation for nothing.)
  2. *Area.* Then the interval with the largest estimate ``E_k`` of the error that linear interpolation (the
     trapezoid of ``Analysis.metrics.normalized_auc``) makes in its part of the normalised area is split, until the
     budget is spent or every ``E_k`` is below ``ADAPTIVE_STOP``::

         E_k = C_k w_k^3 / 12

     the trapezoid rule's error ``w^3 |y''| / 12`` on one interval (Press et al., *Numerical Recipes*, 3rd ed.,
     2007, sec. 4.1) with ``y''`` estimated by the parabolas through the interval and each neighbour. It looks
     where the slope turns, not where the loss changes: a steep straight stretch, whose chord is already the
     curve, is not split, while a bump between two level ends is suspected where the slopes on either side turn
     (up into the interval, down out of it), as is a knee. On curves as jagged as those of a few hundred
     validation examples, a bound from the ends (``w_k |y_{k+1} - y_k|``, the worst case of a monotone interval)
     spends the budget on the steep rises and leaves wide intervals with turning slopes unmeasured. A bump whose
     neighbours show no turn, or narrower than the grid around it, stays unseen, as on any grid of ``n`` points;
     a curve whose measured points are collinear stops before its budget.

  An interval is split at the removal step whose fraction is nearest its middle, among the steps strictly inside
  it (``Experiment.removal_steps.RemovalSteps.between``); an interval that holds no step is never split, so no
  evaluation is spent on a threshold that removes what a measured one removes. Ties go to the interval nearest
  0. Next to a NaN or infinite loss nothing is known: such an interval may hold the crossing, and its area
  estimate is its width. The thresholds picked are a function of the measured points, the ranking and the
  configuration only, so a resumed run picks the same ones.

The thresholds are rounded to ``Schema.KEY_DIGITS`` digits, so a threshold written to the CSV and read back is the
same key.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from Schema import DEFAULT_TOLERANCE, KEY_DIGITS

SPACINGS = ("linear", "geometric", "adaptive")
GEOMETRIC_SMALLEST = 0.01
ADAPTIVE_START = (0.0, 0.25, 0.5, 0.75, 1.0)
ADAPTIVE_STOP = 1e-3
ADAPTIVE_CROSSING_WIDTH = 0.01
# Intervals narrower than this are not split further (2^-14: far below any curve's resolution).
ADAPTIVE_SMALLEST_WIDTH = 2.0 ** -14


def linear(count: int) -> list[float]:
    """``count`` fractions evenly spaced from 0 to 1 inclusive."""
    return [round(i / (count - 1), KEY_DIGITS) for i in range(count)]


def geometric(count: int) -> list[float]:
    """0, then ``count - 1`` fractions spaced geometrically from ``GEOMETRIC_SMALLEST`` to 1 inclusive."""
    steps = count - 2
    return [0.0] + [round(GEOMETRIC_SMALLEST ** (1 - i / steps), KEY_DIGITS) if steps else 1.0
                    for i in range(steps + 1)]


# (low, high, wanted) -> a threshold removing a fraction strictly between low and high, nearest wanted; or None.
Between = Callable[[float, float, float], "float | None"]


def continuous(low: float, high: float, wanted: float) -> float | None:
    """``Between`` for a curve whose fraction removed is its threshold (a removal step at every fraction): ``wanted``
    rounded to ``KEY_DIGITS``, or None where no such fraction lies strictly between ``low`` and ``high``."""
    threshold = round(wanted, KEY_DIGITS)
    return threshold if low < threshold < high else None


def second_derivatives(fractions: list[float], values: list[float]) -> list[float]:
    """``D_j`` of the module docstring at each point of ``fractions`` (sorted) but the two ends, where there is no
    parabola (0 there): the second derivative of the parabola through the points ``j - 1``, ``j``, ``j + 1``;
    NaN where a value is not finite. Two points of one fraction make a zero-width interval, whose slope counts
    as 0."""
    slopes = [(b_value - a_value) / (b - a) if b > a else 0.0
              for a, b, a_value, b_value in zip(fractions, fractions[1:], values, values[1:])]
    inner = [2 * (right - left) / (fractions[j + 2] - fractions[j]) if fractions[j + 2] > fractions[j] else 0.0
             for j, (left, right) in enumerate(zip(slopes, slopes[1:]))]
    return [0.0, *[value if math.isfinite(value) else math.nan for value in inner], 0.0]


def next_adaptive(points: dict[float, tuple[float, float]], budget: int, tolerance: float = DEFAULT_TOLERANCE,
                  between: Between = continuous) -> float | None:
    """The next threshold to measure on an adaptive curve, or None when the curve is done (module docstring).

    Args:
        points: the curve measured so far, threshold -> (fraction removed, validation loss); the thresholds of
            ``ADAPTIVE_START`` among them.
        budget: the most evaluations of the curve (``num_thresholds``).
        tolerance: the relative tolerance whose crossing is refined first (``adaptive_tolerance``).
        between: where the curve's removal steps are (``RemovalSteps.between``; ``continuous``: everywhere).
    """
    if len(points) >= budget:
        return None
    curve = sorted((fraction, loss) for fraction, loss in points.values())
    initial, chance = points[0.0][1], points[1.0][1]
    scale = abs(chance - initial) if math.isfinite(chance - initial) and chance != initial else 1.0
    fractions = [fraction for fraction, _ in curve]
    values = [(loss - initial) / scale for _, loss in curve]
    band = tolerance * abs(initial) / scale
    crossing = next((k for k, value in enumerate(values) if not value <= band), len(values))
    second = second_derivatives(fractions, values)
    candidates = []
    for k in range(len(fractions) - 1):
        a, b = fractions[k], fractions[k + 1]
        width = b - a
        if width < 2 * ADAPTIVE_SMALLEST_WIDTH:
            continue
        ends = (second[k], second[k + 1])
        if not all(math.isfinite(v) for v in (*ends, values[k], values[k + 1])):
            curvature = rise = math.inf  # a NaN or infinite loss: nothing is known between its neighbours
        else:
            curvature, rise = max(abs(d) for d in ends), max(0.0, -min(ends)) * width ** 2 / 8
        may_cross = k + 1 == crossing or (k + 1 < crossing and max(values[k], values[k + 1]) + rise > band)
        if may_cross and width > ADAPTIVE_CROSSING_WIDTH:
            candidates.append((0, a, a, b))  # the first interval that may hold the crossing first, before any area
            continue
        error = curvature * width ** 3 / 12 if math.isfinite(curvature) else width
        if error > ADAPTIVE_STOP:
            candidates.append((1, -error, a, b))
    for _, _, a, b in sorted(candidates):
        threshold = between(a, b, (a + b) / 2)
        if threshold is not None and threshold not in points:
            return threshold
    return None
