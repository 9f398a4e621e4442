"""Aggregation methods: one score per group from the importances of its members.

Each method takes the flattened importances ``values`` (float64), the group id of every value ``group_ids``
(integers in ``[0, num_groups)``, every group non-empty) and ``num_groups``, and returns the ``(num_groups,)``
scores. For a group G with members' importances s_i:

- ``mean``: (1/|G|) sum_{i in G} s_i
- ``min``:  min_{i in G} s_i
- ``max``:  max_{i in G} s_i
- ``sum``:  sum_{i in G} s_i
- ``l2``:   sqrt(sum_{i in G} s_i^2)

All are vectorized (``np.bincount``, or a sort by group followed by ``ufunc.reduceat``).
"""

from __future__ import annotations

import numpy as np


def _reduce_sorted(ufunc: np.ufunc, values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Apply ``ufunc.reduceat`` to the values sorted by group (groups are non-empty, so each start is valid)."""
    order = np.argsort(group_ids, kind="stable")
    starts = np.zeros(num_groups, dtype=np.int64)
    np.cumsum(np.bincount(group_ids, minlength=num_groups)[:-1], out=starts[1:])
    return ufunc.reduceat(values[order], starts)


def sum_method(values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Sum of the members' importances."""
    return np.bincount(group_ids, weights=values, minlength=num_groups)


def mean_method(values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Mean of the members' importances."""
    return sum_method(values, group_ids, num_groups) / np.bincount(group_ids, minlength=num_groups)


def min_method(values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Smallest member importance."""
    return _reduce_sorted(np.minimum, values, group_ids, num_groups)


def max_method(values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Largest member importance."""
    return _reduce_sorted(np.maximum, values, group_ids, num_groups)


def l2_method(values: np.ndarray, group_ids: np.ndarray, num_groups: int) -> np.ndarray:
    """Euclidean norm of the members' importances, sqrt(sum s_i^2)."""
    return np.sqrt(np.bincount(group_ids, weights=np.square(values), minlength=num_groups))
