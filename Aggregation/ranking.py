"""Ranking: group the weights, score the groups, order them for removal, once; thresholds are cuts of that order.

``rank_groups`` does all the work that does not depend on the threshold:

1. select the thresholded tensors (``parameters``, see ``parameters.py``: ``all``, ``kernels`` or
   ``no_normalization``); the others are never grouped, ranked or replaced;
2. group every selected weight (``level``, see ``levels.py``) and split the groups into *scope units*
   (``scope``, see ``scopes.py``): every layer separately (``"layer"``), the whole model at once (``"model"``),
   or every tensor separately (``"tensor"``, the level applied within each tensor);
3. score every group from its members' importances (``method``, see ``methods.py``);
4. order the groups for removal within each scope unit, least important first (``order="least"``) or most
   important first (``order="most"``). Ties are broken by a random permutation drawn from
   ``np.random.default_rng(seed)``, so the order is a strict total order, reproducible for a seed.

Each weight then carries the removal rank of its group within its scope unit (0 = removed first), and
``Ranking.masks(fraction)`` is one comparison per tensor: a weight is replaced iff its group's rank is below

    k = num_groups_to_remove(fraction, N) = floor(fraction * N + 0.5)      (round half up)

with N the number of groups of its scope unit. Exactly k groups of every scope unit are removed whatever the
ties, ``fraction=0`` removes nothing, ``fraction=1`` removes every selected group, and masks are nested: whatever
is removed at a fraction stays removed at every larger fraction. Note that k counts groups: with groups of unequal
size (e.g. ``scope="model"`` at the ``unit`` level) the fraction of *parameters* removed differs from ``fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from Aggregation import _checks
from Aggregation.grouping import model_groups
from Aggregation.registry import LEVELS, METHOD_FUNCTIONS, METHODS, ORDERS, PARAMETERS, SCOPES, check_choice


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
    """The removal order of every group of one (importances, level, method, scope, order, seed, parameters).

    Tensors that ``parameters`` does not select have group id -1, weight rank -1 and scope unit -1, and their
    masks are all False.

    Attributes:
        level, method, scope, order, seed, parameters: how it was made.
        group_ids: per trainable tensor, an int array of its shape: the (model-wide) group of every weight.
        group_scores: ``(num_groups,)`` aggregated importance of every group.
        group_layers: ``(num_groups,)`` index of the layer owning every group (layers numbered in order of first
            appearance among the selected tensors of ``model.trainable_weights``).
        group_scopes: ``(num_groups,)`` scope unit of every group (its layer, 0 for ``scope="model"``, its tensor
            among the selected ones for ``scope="tensor"``).
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
    parameters: str
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
    def selected(self) -> list[bool]:
        """Per trainable tensor, whether it is thresholded (``parameters``)."""
        return [bool(scope >= 0) for scope in self.tensor_scopes]

    @property
    def num_parameters(self) -> int:
        """Number of thresholded (selected) parameters."""
        return int(sum(ranks.size for ranks, chosen in zip(self.weight_ranks, self.selected) if chosen))

    def num_groups_removed(self, fraction: float) -> np.ndarray:
        """Groups removed at ``fraction`` in every scope unit, ``floor(fraction * N + 0.5)``."""
        return num_groups_to_remove(fraction, self.scope_num_groups)

    def masks(self, fraction: float) -> list[np.ndarray]:
        """One bool array per trainable tensor, True where the weight is replaced at ``fraction``."""
        cut = self.num_groups_removed(fraction)
        return [
            ranks < cut[scope] if scope >= 0 else np.zeros(ranks.shape, dtype=bool)
            for ranks, scope in zip(self.weight_ranks, self.tensor_scopes)
        ]


def removal_ranks(scores: np.ndarray, group_scopes: np.ndarray, num_scopes: int, order: str, seed: int):
    """(rank of every group within its scope unit, number of groups of every scope unit).

    Sorted by scope unit, then score (ascending for ``"least"``, descending for ``"most"``), then a random
    permutation of the groups drawn with ``seed``, which breaks ties.
    """
    num_groups = scores.size
    keys = scores if order == "least" else -scores
    tie_break = np.random.default_rng(seed).permutation(num_groups)
    removal_order = np.lexsort((tie_break, keys, group_scopes))  # last key is the primary one
    scope_num_groups = np.bincount(group_scopes, minlength=num_scopes)
    scope_starts = np.cumsum(scope_num_groups) - scope_num_groups
    index_dtype = np.int32 if num_groups < np.iinfo(np.int32).max else np.int64
    group_ranks = np.empty(num_groups, dtype=index_dtype)
    group_ranks[removal_order] = np.arange(num_groups) - scope_starts[group_scopes[removal_order]]
    return group_ranks, scope_num_groups


def rank_groups(
    model: keras.Model,
    importances: list[np.ndarray],
    level: str = "weight",
    method: str = "mean",
    scope: str = "layer",
    order: str = "least",
    seed: int = 0,
    parameters: str = "all",
) -> Ranking:
    """Select, group, score and order the model's trainable weights for removal (see the module docstring).

    Args:
        model: a built Keras model; only ``model.trainable_weights`` are ranked.
        importances: one array per ``model.trainable_weights`` entry, same shape, larger = more important; those
            of the selected tensors must be finite (the others are ignored).
        level: one of ``LEVELS`` ("weight", "unit", "filter", "layer").
        method: one of ``METHODS`` ("mean", "min", "max", "sum", "l2"), how members' importances become a score.
        scope: one of ``SCOPES``: "layer" (each layer removes its own fraction of its own groups), "model"
            (one ranking of all groups of the model) or "tensor" (each tensor removes its own fraction, the level
            applied within each tensor).
        order: one of ``ORDERS``: "least" (least important removed first) or "most".
        seed: non-negative integer seeding the random tie-break.
        parameters: one of ``PARAMETERS``: "all" (every trainable tensor), "kernels" (Dense, EinsumDense and
            convolution kernels only) or "no_normalization" (all but normalization layers' tensors).
    """
    check_choice("level", level, LEVELS)
    check_choice("method", method, METHODS)
    check_choice("scope", scope, SCOPES)
    check_choice("order", order, ORDERS)
    check_choice("parameters", parameters, PARAMETERS)
    seed = _checks.check_seed(seed)
    variables = _checks.trainable_variables(model)
    importances = _checks.check_arrays(importances, variables, "importances", dtype=np.float64)

    groups = model_groups(model, variables, level, parameters, scope)
    _checks.check_finite(importances, variables, "importances", groups.selected)
    chosen = [index for index, selected in enumerate(groups.selected) if selected]
    flat_ids = np.concatenate([groups.ids[i].ravel() for i in chosen])
    flat_importances = np.concatenate([importances[i].ravel() for i in chosen])
    scores = METHOD_FUNCTIONS[method](flat_importances, flat_ids, groups.num_groups)
    group_ranks, scope_num_groups = removal_ranks(
        scores, groups.group_scopes, int(groups.tensor_scopes.max()) + 1, order, seed
    )
    index_dtype = group_ranks.dtype
    return Ranking(
        level=level,
        method=method,
        scope=scope,
        order=order,
        seed=seed,
        parameters=parameters,
        group_ids=[ids.astype(index_dtype) for ids in groups.ids],
        group_scores=scores,
        group_layers=groups.group_layers,
        group_scopes=groups.group_scopes,
        group_ranks=group_ranks,
        scope_num_groups=scope_num_groups,
        tensor_scopes=groups.tensor_scopes,
        weight_ranks=[
            group_ranks[ids] if selected else np.full(ids.shape, -1, dtype=index_dtype)
            for ids, selected in zip(groups.ids, groups.selected)
        ],
    )
