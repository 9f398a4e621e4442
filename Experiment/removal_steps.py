"""The fraction of the thresholded parameters that each threshold removes, for one ranking: a step function.

A threshold ``t`` removes ``k_s = floor(t N_s + 0.5)`` groups of every scope unit ``s`` (``Aggregation.ranking``),
so the fraction removed, ``f(t) = sum_s (size of the first k_s groups of s) / num_parameters``, is constant
between the points ``(k - 1/2) / N_s`` and steps up at them. Thresholds on one step remove the same weights, so
measuring two of them measures one point of the curve twice. The adaptive grid (``Experiment.thresholds``)
refines a curve in ``f``, the variable its metrics integrate over, and asks ``RemovalSteps.between`` for the
step whose fraction is nearest the one it wants; an interval of fractions that holds no step is never split.

``f(t)`` here is counted as ``Aggregation.ThresholdResult.from_masks(ranking.masks(t))`` counts it, so it is the
``fraction_removed`` the row of that threshold records, exactly.
"""

from __future__ import annotations

import math

import numpy as np

from Aggregation import Ranking
from Schema import KEY_DIGITS

# Bisection in threshold stops when the bracket is this narrow (below a step of any model of fewer than 1e12 groups).
_RESOLUTION = 1e-13


class RemovalSteps:
    """``f(t)`` of one ``Aggregation.Ranking`` (module docstring): ``fraction(t)`` and ``between(low, high, wanted)``."""

    def __init__(self, ranking: Ranking):
        selected = [ids for ids, chosen in zip(ranking.group_ids, ranking.selected) if chosen]
        sizes = np.bincount(np.concatenate([ids.ravel() for ids in selected]), minlength=ranking.num_groups)
        self.scope_num_groups = np.asarray(ranking.scope_num_groups, dtype=np.int64)
        # Per scope unit: 0, then the number of parameters of its first 1, 2, ... groups in removal order.
        order = np.lexsort((ranking.group_ranks, ranking.group_scopes))
        ends = np.cumsum(self.scope_num_groups)
        self._removed = [np.concatenate([[0], np.cumsum(part)])
                         for part in np.split(sizes[order].astype(np.int64), ends[:-1])]
        self.ranking = ranking
        self.num_parameters = ranking.num_parameters

    def fraction(self, threshold: float) -> float:
        """The fraction of the thresholded parameters that ``threshold`` removes."""
        counts = self.ranking.num_groups_removed(threshold)
        removed = sum(int(cumulative[k]) for cumulative, k in zip(self._removed, counts))
        return removed / self.num_parameters

    def step(self, threshold: float) -> tuple[float, float]:
        """``[lo, hi)``: the thresholds on the same step as ``threshold`` (``hi`` above 1 for the last step)."""
        counts = self.ranking.num_groups_removed(threshold)
        present = self.scope_num_groups > 0
        n, k = self.scope_num_groups[present], counts[present]
        return max(0.0, float(np.max((k - 0.5) / n))), float(np.min((k + 0.5) / n))

    def threshold_on_step(self, threshold: float) -> float | None:
        """The threshold with the fewest decimals (at most ``Schema.KEY_DIGITS``) that removes what ``threshold``
        removes, or None where the step is too narrow to hold one."""
        target = self.fraction(threshold)
        lo, hi = self.step(threshold)
        for digits in range(KEY_DIGITS + 1):
            scale = 10 ** digits
            for candidate in (math.ceil(lo * scale) / scale, math.floor(lo * scale) / scale + 1 / scale):
                candidate = round(candidate, KEY_DIGITS)
                if lo <= candidate < hi and candidate <= 1 and self.fraction(candidate) == target:
                    return candidate
        return None

    def between(self, low: float, high: float, wanted: float) -> float | None:
        """The threshold of the step whose fraction is nearest ``wanted`` among those strictly between the
        fractions ``low`` and ``high``, or None where no step lies between them."""
        below, above = 0.0, 1.0  # bracket: f(below) < wanted <= f(above)
        if self.fraction(below) >= wanted:
            above = below
        while above - below > _RESOLUTION:
            middle = (below + above) / 2
            if self.fraction(middle) < wanted:
                below = middle
            else:
                above = middle
        candidates = []
        for threshold in (above, below):
            fraction = self.fraction(threshold)
            if low < fraction < high:
                candidates.append((abs(fraction - wanted), threshold))
        for _, threshold in sorted(candidates):
            nice = self.threshold_on_step(threshold)
            if nice is not None:
                return nice
        return None
