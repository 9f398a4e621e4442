"""Grouping over a whole model: which trainable tensors are thresholded, their groups, and the scope units.

``model_groups`` chains the three choices that do not depend on importances:

1. ``parameters`` (``parameters.py``) selects the thresholded tensors, by owning layer (``structure.py``);
2. ``level`` (``levels.py``) groups the weights of the selected tensors, layer by layer; a level never sees an
   unselected tensor, so under ``"kernels"`` a Dense unit is its kernel column without its bias and a
   BatchNormalization layer is absent;
3. ``scope`` (``scopes.py``) says within which unit (layer, model, tensor) groups are ranked, splitting groups
   along tensor boundaries for ``"tensor"``.

Group ids are global and consecutive; scope units and layers are numbered in order of first appearance among the
selected tensors. Unselected tensors get group id -1 and scope unit -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from Aggregation import _checks
from Aggregation.levels import assign_groups
from Aggregation.registry import (
    LEVEL_FUNCTIONS, LEVELS, PARAMETER_FUNCTIONS, PARAMETERS, SCOPE_FUNCTIONS, SCOPES, check_choice,
)
from Aggregation.structure import owning_layers

NOT_SELECTED = -1


@dataclass(frozen=True, eq=False)
class Groups:
    """The groups of one (parameters, level, scope) over ``model.trainable_weights``.

    Attributes:
        ids: per trainable tensor, an int64 array of its shape: the group of every weight (-1: not thresholded).
        group_layers: ``(num_groups,)`` layer of every group.
        group_scopes: ``(num_groups,)`` scope unit of every group.
        tensor_scopes: ``(num_tensors,)`` scope unit of every trainable tensor (-1: not thresholded).
    """

    ids: list[np.ndarray]
    group_layers: np.ndarray
    group_scopes: np.ndarray
    tensor_scopes: np.ndarray

    @property
    def num_groups(self) -> int:
        return int(self.group_layers.size)

    @property
    def selected(self) -> list[bool]:
        return [bool(scope != NOT_SELECTED) for scope in self.tensor_scopes]


def select_tensors(owners: list, variables: list, parameters: str) -> list[bool]:
    """Whether each of ``variables`` (owned by ``owners``) is thresholded; a ValueError if none is."""
    check_choice("parameters", parameters, PARAMETERS)
    selected = [bool(PARAMETER_FUNCTIONS[parameters](owner, variable)) for owner, variable in zip(owners, variables)]
    if not any(selected):
        raise ValueError(
            f"parameters={parameters!r} selects none of the {len(variables)} trainable tensors "
            f"({', '.join(v.path for v in variables[:5])}{', ...' if len(variables) > 5 else ''}); "
            f"choose another of {list(PARAMETERS)} (\"all\" thresholds every trainable tensor)."
        )
    return selected


def selected_tensors(model: keras.Model, parameters: str = "all") -> list[bool]:
    """Per ``model.trainable_weights`` entry, whether ``parameters`` thresholds it (see ``parameters.py``).

    The fully replaced ("chance") model of a selection is ``[np.full(w.shape, s) for w, s in zip(weights,
    selected_tensors(model, parameters))]`` applied with ``apply_masks``.
    """
    check_choice("parameters", parameters, PARAMETERS)
    variables = _checks.trainable_variables(model)
    return select_tensors(owning_layers(model, variables), variables, parameters)


def model_groups(model: keras.Model, variables: list, level: str, parameters: str, scope: str) -> Groups:
    """Select, group and scope ``variables`` (the model's trainable weights); arguments already checked."""
    owners = owning_layers(model, variables)
    selected = select_tensors(owners, variables, parameters)
    positions = [index for index, chosen in enumerate(selected) if chosen]
    ids, group_layers, tensor_layers = assign_groups(
        LEVEL_FUNCTIONS[level], [owners[p] for p in positions], [variables[p] for p in positions]
    )
    ids, group_layers, group_scopes, scopes = SCOPE_FUNCTIONS[scope](ids, group_layers, tensor_layers)
    all_ids = [np.full(tuple(variable.shape), NOT_SELECTED, dtype=np.int64) for variable in variables]
    tensor_scopes = np.full(len(variables), NOT_SELECTED, dtype=np.int64)
    for position, tensor_ids, tensor_scope in zip(positions, ids, scopes):
        all_ids[position] = tensor_ids
        tensor_scopes[position] = tensor_scope
    return Groups(all_ids, group_layers, group_scopes, tensor_scopes)


def group_ids(
    model: keras.Model, level: str = "unit", parameters: str = "all", scope: str = "layer"
) -> tuple[list[np.ndarray], int]:
    """The groups of ``level`` over the whole model: one int64 array of global group ids per
    ``model.trainable_weights`` entry (same shape; -1 for tensors ``parameters`` does not select), and the number
    of groups. Ids are numbered as ``rank_groups`` numbers them: consecutive within a layer, layers following each
    other (``scope`` matters only for ``"tensor"``, which splits groups along tensor boundaries)."""
    check_choice("level", level, LEVELS)
    check_choice("parameters", parameters, PARAMETERS)
    check_choice("scope", scope, SCOPES)
    variables = _checks.trainable_variables(model)
    groups = model_groups(model, variables, level, parameters, scope)
    return groups.ids, groups.num_groups
