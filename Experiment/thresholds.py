"""Where on a curve the thresholds go: the fractions of the thresholded parameters removed.

- ``linear`` (default): ``n`` evenly spaced fractions from 0 to 1.
- ``geometric``: 0, then ``n - 1`` fractions spaced geometrically from ``GEOMETRIC_SMALLEST`` (1 %) to 1: dense
  near 0, where least-first curves have their knee.
- ``adaptive``: per curve, start from ``ADAPTIVE_START`` (0, 1/4, 1/2, 3/4, 1) and spend the rest of the budget of
  ``n`` evaluations where the curve is least known. First the interval where the loss first leaves the tolerance
  band ``L0 (1 + ADAPTIVE_TOLERANCE)`` (the analysis' default, 5 %; ``L0``: the loss at 0) is halved until it is
  at most ``ADAPTIVE_CROSSING_WIDTH`` wide: its width bounds the error of the largest fraction removed within
  that tolerance. Then an interval ``[a, b]`` between measured fractions with losses ``L_a``, ``L_b`` has the
  bound ``|L_b - L_a| (b - a) / (Lc - L0)`` on the error that linear interpolation makes in the normalised area
  (``Lc``: the loss at 1), and the interval with the largest bound is split in the middle, until the budget is
  spent or every bound is below ``ADAPTIVE_STOP``. Ties go to the interval nearest 0. The fractions picked are a function of the measured losses and the configuration only,
  so a resumed run picks the same ones.

The fractions are rounded to ``Schema.KEY_DIGITS`` digits, so a fraction written to the CSV and read back is the
same key.
"""

from __future__ import annotations

import math

from Schema import KEY_DIGITS

SPACINGS = ("linear", "geometric", "adaptive")
GEOMETRIC_SMALLEST = 0.01
ADAPTIVE_START = (0.0, 0.25, 0.5, 0.75, 1.0)
ADAPTIVE_TOLERANCE = 0.05
ADAPTIVE_STOP = 1e-3
ADAPTIVE_CROSSING_WIDTH = 2.0 ** -8
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


def next_adaptive(losses: dict[float, float], budget: int) -> float | None:
    """The next fraction to measure on an adaptive curve, given the ``losses`` measured so far (fraction ->
    validation loss, ``ADAPTIVE_START`` among them), or None when the curve is done (module docstring)."""
    if len(losses) >= budget:
        return None
    points = sorted(losses.items())
    initial, chance = losses[0.0], losses[1.0]
    scale = abs(chance - initial) if math.isfinite(chance - initial) and chance != initial else 1.0
    limit = initial * (1 + ADAPTIVE_TOLERANCE) if initial >= 0 else initial * (1 - ADAPTIVE_TOLERANCE)
    crossing = next((i for i, (_, loss) in enumerate(points) if not loss <= limit), None)
    best, best_bound = None, ADAPTIVE_STOP
    for i in range(len(points) - 1):
        (a, loss_a), (b, loss_b) = points[i], points[i + 1]
        if b - a < 2 * ADAPTIVE_SMALLEST_WIDTH:
            continue
        change = abs(loss_b - loss_a) / scale
        bound = change * (b - a) if math.isfinite(change) else b - a
        if crossing is not None and i + 1 == crossing and b - a > ADAPTIVE_CROSSING_WIDTH:
            bound = 1 + (b - a)  # before any area bound (each is at most 1 for a curve within [L0, Lc])
        if bound > best_bound:
            best, best_bound = round((a + b) / 2, KEY_DIGITS), bound
    return best
