"""Where on a curve the thresholds go: the fractions of the thresholded parameters removed.

- ``linear`` (default): ``n`` evenly spaced fractions from 0 to 1.
- ``geometric``: 0, then ``n - 1`` fractions spaced geometrically from ``GEOMETRIC_SMALLEST`` (1 %) to 1: dense
  near 0, where least-first curves have their knee.
- ``adaptive``: per curve, start from the thresholds ``ADAPTIVE_START`` (0, 1/4, 1/2, 3/4, 1) and spend the rest
  of the budget of ``n`` evaluations where the curve is least known, in ``f``, the ``fraction_removed`` its metrics
  integrate over (at unit, filter or layer level a threshold and the fraction it removes differ). With the
  points ``(f_k, L_k)`` measured so far sorted by ``f``:

  1. *Crossing.* The interval ``[f_k, f_{k+1}]`` whose right end is the first point above the tolerance band,
     ``L > L0 + tolerance |L0|`` (``L0``: the loss at threshold 0; ``tolerance``: ``adaptive_tolerance`` of the
     configuration, by default the analysis' ``Schema.DEFAULT_TOLERANCE``), is halved first until it is at most
     ``ADAPTIVE_CROSSING_WIDTH`` (2^-7, about 0.008) wide: its width bounds the error of the largest fraction
     removed within that tolerance, which the analysis reads from the measured points, so that error is below a
     hundredth.
  2. *Area.* Then the interval with the largest estimate ``E_k`` of the error that linear interpolation (the
     trapezoid of ``Analysis.metrics.normalized_auc``) makes in its part of the normalised area is split, until the
     budget is spent or every ``E_k`` is below ``ADAPTIVE_STOP``. In normalised loss ``(L - L0) / |Lc - L0|``
     (``Lc``: the loss at threshold 1), with ``w_k = f_{k+1} - f_k``, ``d_k`` the change of normalised loss across
     the interval and ``s_k = d_k / w_k`` its slope::

         E_k = max(w_k d_k,  (M_k^2 w_k^2 - d_k^2) / (4 M_k)),   M_k = max(s_{k-1}, s_k, s_{k+1})

     The first term bounds the error where the loss is monotone inside the interval (the area then lies between
     ``w_k`` times the lower and the upper end). It is 0 for an interval whose ends are level, however the loss
     moves between them, so it alone never looks inside such an interval. The second term is the largest area
     that a curve whose slope is at most ``M_k`` can put between itself and the chord joining the ends (it rises
     at slope ``M_k`` and falls back, a triangle over the chord); ``M_k`` is the steepest slope measured on the
     interval and its neighbours, so an interval next to a steep change is suspected of a bump of that
     steepness, while one in a flat stretch is not (``E_k = 0`` where the interval and its neighbours are level).
     ``E_k`` bounds the error under either assumption, monotone or as steep as the neighbours; a bump steeper
     than anything measured nearby, or narrower than the grid around it, stays unseen, as on any grid of
     ``n`` points.

  An interval is split at the removal step whose fraction is nearest its middle, among the steps strictly inside
  it (``Experiment.removal_steps.RemovalSteps.between``); an interval that holds no step is never split, so no
  evaluation is spent on a threshold that removes what a measured one removes. Ties go to the interval nearest
  0. The thresholds picked are a function of the measured points, the ranking and the configuration only, so a
  resumed run picks the same ones.

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
ADAPTIVE_CROSSING_WIDTH = 2.0 ** -7
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


def area_error(width: float, change: float, steepest: float) -> float:
    """``E_k`` of the module docstring: the larger of ``width * change`` (a curve monotone in the interval) and
    ``(steepest^2 width^2 - change^2) / (4 steepest)`` (a curve no steeper than ``steepest``), in normalised loss."""
    if not math.isfinite(steepest):
        return width
    bump = (steepest * width - change) * (steepest * width + change) / (4 * steepest) if steepest > 0 else 0.0
    return max(width * change, bump)


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
    limit = initial + tolerance * abs(initial)
    crossing = next((k for k, (_, loss) in enumerate(curve) if not loss <= limit), None)
    widths = [b - a for (a, _), (b, _) in zip(curve, curve[1:])]
    changes = [abs(loss_b - loss_a) / scale for (_, loss_a), (_, loss_b) in zip(curve, curve[1:])]
    # A NaN or infinite loss makes its neighbours' slope infinite: they are split by width alone. Two thresholds
    # of one fraction remove the same weights: a zero-width interval has no slope.
    slopes = [math.inf if not math.isfinite(change) else change / width if width > 0 else 0.0
              for change, width in zip(changes, widths)]
    candidates = []
    for k, (width, change) in enumerate(zip(widths, changes)):
        a, b = curve[k][0], curve[k + 1][0]
        if width < 2 * ADAPTIVE_SMALLEST_WIDTH:
            continue
        if k + 1 == crossing and width > ADAPTIVE_CROSSING_WIDTH:
            candidates.append((0, -width, a, b))  # before any area estimate
            continue
        bound = area_error(width, change, max(slopes[max(k - 1, 0):k + 2])) if math.isfinite(change) else width
        if bound > ADAPTIVE_STOP:
            candidates.append((1, -bound, a, b))
    for _, _, a, b in sorted(candidates):
        threshold = between(a, b, (a + b) / 2)
        if threshold is not None and threshold not in points:
            return threshold
    return None
