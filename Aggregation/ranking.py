"""Ranking: group the weights, score the groups, order them for removal, once; thresholds are cuts of that order.

``rank_groups`` does all the work that does not depend on the threshold:

1. group every trainable weight (``level``, see ``levels.py``);
2. score every group from its members' importances (``method``, see ``methods.py``);
3. order the groups for removal within each *scope unit*: every layer separately (``scope="layer"``) or the
   whole model at once (``scope="model"``); least important first (``order="least"``) or most important first
   (``order="most"``). Ties are broken by a random permutation drawn from ``np.random.default_rng(seed)``, so the
   order is a strict total order, reproducible for a seed.

Each weight then carries the removal rank of its group within its scope unit (0 = removed first), and
``Ranking.masks(fraction)`` is one comparison per tensor: a weight is replaced iff its group's rank is below

    k = num_groups_to_remove(fraction, N) = floor(fraction * N + 0.5)      (round half up)

with N the number of groups of its scope unit. Exactly k groups of every scope unit are removed whatever the
ties, ``fraction=0`` removes nothing, ``fraction=1`` removes every group, and masks are nested: whatever is
removed at a fraction stays removed at every larger fraction. Note that k counts groups: with groups of unequal
size (e.g. ``scope="model"`` at the ``unit`` level) the fraction of *parameters* removed differs from ``fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from Aggregation import _checks
from Aggregation.levels import assign_groups
from Aggregation.registry import LEVEL_FUNCTIONS, LEVELS, METHOD_FUNCTIONS, METHODS, ORDERS, SCOPES, check_choice
from Aggregation.structure import owning_layers


def num_groups_to_remove(fraction: float, num_groups):
    """floor(fraction * num_groups + 0.5): ``round`` with halves rounded up (Python's ``round`` rounds to even).

    Works elementwise on an array of group counts.
    """
    fraction = _checks.check_fraction(fraction)
    counts = np.asarray(num_groups, dtype=np.int64)
    removed = np.floor(fraction * counts + 0.5).astype(np.int64)
    return np.clip(removed, 0, counts)


@dataclass(frozen=True, eq=False)
class Ranking:
    """The removal order of every group of one (importances, level, method, scope, order, seed).

    Attributes:
        level, method, scope, order, seed: how it was made.
        group_ids: per trainable tensor, an int array of its shape: the (model-wide) group of every weight.
        group_scores: ``(num_groups,)`` aggregated importance of every group.
        group_layers: ``(num_groups,)`` index of the layer owning every group (layers numbered in order of first
            appearance in ``model.trainable_weights``).
        group_scopes: ``(num_groups,)`` scope unit of every group (its layer, or 0 for ``scope="model"``).
        group_ranks: ``(num_groups,)`` removal rank of every group within its scope unit (0 = removed first).
        scope_num_groups: ``(num_scope_units,)`` number of groups of every scope unit.
        tensor_scopes: ``(num_tensors,)`` scope unit of every trainable tensor.
        weight_ranks: per trainable tensor, ``group_ranks`` of every weight's group (the array ``masks`` cuts).
    """

    level: str
    method: str
    scope: str
    order: str
    seed: int
    group_ids: list[np.ndarray] = field(repr=False)
    group_scores: np.ndarray = field(repr=False)
    group_layers: np.ndarray = field(repr=False)
    group_scopes: np.ndarray = field(repr=False)
    group_ranks: np.ndarray = field(repr=False)
    scope_num_groups: np.ndarray = field(repr=False)
    tensor_scopes: np.ndarray = field(repr=False)
    weight_ranks: list[np.ndarray] = field(repr=False)

    @property
    def num_groups(self) -> int:
        return int(self.group_scores.size)

    @property
    def num_parameters(self) -> int:
        return int(sum(ranks.size for ranks in self.weight_ranks))

    def num_groups_removed(self, fraction: float) -> np.ndarray:
        """Groups removed at ``fraction`` in every scope unit, ``floor(fraction * N + 0.5)``."""
        return num_groups_to_remove(fraction, self.scope_num_groups)

    def masks(self, fraction: float) -> list[np.ndarray]:
        """One bool array per trainable tensor, True where the weight is replaced at ``fraction``."""
        cut = self.num_groups_removed(fraction)[self.tensor_scopes]
        return [ranks < k for ranks, k in zip(self.weight_ranks, cut)]


def group_ids(model: keras.Model, level: str = "unit") -> tuple[list[np.ndarray], int]:
    """The groups of ``level`` over the whole model: one int64 array of global group ids per
    ``model.trainable_weights`` entry (same shape), and the number of groups. Ids are numbered as ``rank_groups``
    numbers them: consecutive within a layer, layers following each other."""
    check_choice("level", level, LEVELS)
    variables = _checks.trainable_variables(model)
    ids, group_layers, _ = assign_groups(LEVEL_FUNCTIONS[level], owning_layers(model, variables), variables)
    return ids, int(group_layers.size)


def rank_groups(
    model: keras.Model,
    importances: list[np.ndarray],
    level: str = "weight",
    method: str = "mean",
    scope: str = "layer",
    order: str = "least",
    seed: int = 0,
) -> Ranking:
    """Group, score and order the model's trainable weights for removal (see the module docstring).

    Args:
        model: a built Keras model; only ``model.trainable_weights`` are ranked.
        importances: one finite array per ``model.trainable_weights`` entry, same shape, larger = more important.
        level: one of ``LEVELS`` ("weight", "unit", "filter", "layer").
        method: one of ``METHODS`` ("mean", "min", "max", "sum", "l2"), how members' importances become a score.
        scope: one of ``SCOPES``: "layer" (each layer removes its own fraction of its own groups) or "model"
            (one ranking of all groups of the model).
        order: one of ``ORDERS``: "least" (least important removed first) or "most".
        seed: non-negative integer seeding the random tie-break.
    """
    check_choice("level", level, LEVELS)
    check_choice("method", method, METHODS)
    check_choice("scope", scope, SCOPES)
    check_choice("order", order, ORDERS)
    seed = _checks.check_seed(seed)
    variables = _checks.trainable_variables(model)
    importances = _checks.check_arrays(importances, variables, "importances", finite=True, dtype=np.float64)

    owners = owning_layers(model, variables)
    group_ids, group_layers, tensor_layers = assign_groups(LEVEL_FUNCTIONS[level], owners, variables)
    num_groups = group_layers.size
    index_dtype = np.int32 if num_groups < np.iinfo(np.int32).max else np.int64
    flat_ids = np.concatenate([ids.ravel() for ids in group_ids])
    flat_importances = np.concatenate([values.ravel() for values in importances])
    scores = METHOD_FUNCTIONS[method](flat_importances, flat_ids, num_groups)

    if scope == "layer":
        group_scopes, tensor_scopes = group_layers, tensor_layers
    else:
        group_scopes = np.zeros(num_groups, dtype=np.int64)
        tensor_scopes = np.zeros(len(variables), dtype=np.int64)
    keys = scores if order == "least" else -scores
    tie_break = np.random.default_rng(seed).permutation(num_groups)
    removal_order = np.lexsort((tie_break, keys, group_scopes))  # last key is the primary one
    scope_num_groups = np.bincount(group_scopes)
    scope_starts = np.cumsum(scope_num_groups) - scope_num_groups
    group_ranks = np.empty(num_groups, dtype=index_dtype)
    group_ranks[removal_order] = np.arange(num_groups) - scope_starts[group_scopes[removal_order]]

    return Ranking(
        level=level,
        method=method,
        scope=scope,
        order=order,
        seed=seed,
        group_ids=[ids.astype(index_dtype) for ids in group_ids],
        group_scores=scores,
        group_layers=group_layers,
        group_scopes=group_scopes,
        group_ranks=group_ranks,
        scope_num_groups=scope_num_groups,
        tensor_scopes=tensor_scopes,
        weight_ranks=[group_ranks[ids] for ids in group_ids],
    )
