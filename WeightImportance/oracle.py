"""Oracle: the actual increase of the loss when a group of weights is removed, group by group.

    importance(w) = L(data; weights of w's group set to 0) - L(data),     L = (1/N) sum_n loss(y_n, f(x_n))

with ``loss`` the model's compiled loss on the evaluation examples (the ``data`` given to ``compute``), the model
in inference mode (``training=False``). Every weight of a group gets its group's loss increase; a negative value
means removing the group lowers the loss. This is what the other measures estimate, so it serves to validate
them (see ``Experiment/oracle.py``); it is meant for small models.

**Cost: one forward pass over the data per group**, plus one for the unchanged model. ``max_groups`` (default
2000) refuses larger jobs with an error saying how many passes they would take.

Removal units (``level``). Like every measure, the oracle knows no units or layers: the caller defines the groups.
- ``"weight"``: every scalar weight on its own (one forward pass per parameter: tiny models only). Needs nothing.
- ``"unit"`` (default) and ``"layer"``: the groups returned by the grouping function given to ``set_grouping``,
  called as ``group_ids(model, level)``: one int array of global group ids per ``model.trainable_weights`` entry
  (same shape, ids in ``[0, num_groups)``) and ``num_groups``. Runners pass ``Aggregation.group_ids``, so the
  oracle removes exactly the groups that ``Aggregation`` ranks at that level (a unit: a Dense unit's incoming
  weights with its bias, a conv filter with its bias, a BatchNormalization channel's gamma and beta; a layer: all
  trainable weights of a layer). Without a grouping, ``compute`` raises an error quoting the line to write.
A grouping given at ``level="weight"`` is used too (``Aggregation``'s weight groups are single weights).

From a notebook, in one line (``set_grouping`` returns the measure)::

    get_measure("oracle").set_grouping(Aggregation.group_ids).compute(model, data)

The grouping is the caller's because ``WeightImportance`` does not import ``Aggregation`` (the floors of the
house): a default grouping here would be a second definition of units, free to drift from the one that ranks.

Removal replaces the group's weights by zero (``replacement="zero"``, the only choice). Every weight is restored to
its exact original value afterwards; non-trainable state (BatchNormalization statistics) is never assigned.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from WeightImportance._internal.data import iterate_batches
from WeightImportance._internal.likelihood import compiled_loss, loss_likelihood, target_check
from WeightImportance.base import ImportanceMeasure, as_importances, check_model

LEVELS = ("unit", "weight", "layer")
REPLACEMENTS = ("zero",)


def single_weight_ids(variables: list) -> tuple[list[np.ndarray], int]:
    """Every scalar weight its own group, numbered in the order of ``variables``; and the number of groups."""
    sizes = [int(np.prod(v.shape, dtype=np.int64)) for v in variables]
    starts = np.cumsum([0] + sizes[:-1])
    ids = [start + np.arange(size, dtype=np.int64).reshape(tuple(v.shape))
           for start, size, v in zip(starts, sizes, variables)]
    return ids, sum(sizes)


class Oracle(ImportanceMeasure):
    """importance = the loss increase on ``data`` when the weight's group is set to zero (expensive; see above).

    Options: ``level`` ("unit", "weight", "layer"), ``replacement`` ("zero"), ``num_samples`` (examples used, all
    if None), ``batch_size`` (examples per forward pass, default 1024), ``max_groups`` (refuse models with more
    groups than this at ``level``, default 2000). Groups at ``level`` "unit" and "layer" come from
    ``set_grouping(group_ids)``.
    """

    name = "oracle"
    needs_groups = True

    def __init__(self, level: str = "unit", replacement: str = "zero", num_samples: int | None = None,
                 batch_size: int = 1024, max_groups: int = 2000):
        if level not in LEVELS:
            raise ValueError(f"Unknown level {level!r} for oracle; valid: {list(LEVELS)}.")
        if replacement not in REPLACEMENTS:
            raise ValueError(f"Unknown replacement {replacement!r} for oracle; valid: {list(REPLACEMENTS)}.")
        if not isinstance(max_groups, (int, np.integer)) or max_groups < 1:
            raise ValueError(f"max_groups must be a positive integer, got {max_groups!r}.")
        self.level = level
        self.replacement = replacement
        self.num_samples = num_samples
        self.batch_size = int(batch_size)
        self.max_groups = int(max_groups)
        self.grouping: Callable | None = None

    def set_grouping(self, group_ids: Callable) -> Oracle:
        """Use ``group_ids(model, level) -> (ids, num_groups)`` (e.g. ``Aggregation.group_ids``) for the groups;
        returns the measure, so that ``get_measure("oracle").set_grouping(Aggregation.group_ids).compute(...)``
        is one line."""
        if not callable(group_ids):
            raise TypeError(f"set_grouping needs a function group_ids(model, level) -> (ids, num_groups), "
                            f"got {type(group_ids).__name__}.")
        self.grouping = group_ids
        return self

    def groups(self, model) -> tuple[list[np.ndarray], int]:
        """The groups of ``level``: per trainable tensor the group of every entry, and the number of groups."""
        variables = list(model.trainable_weights)
        if self.grouping is None:
            if self.level == "weight":
                return single_weight_ids(variables)
            options = "" if self.level == "unit" else f', level="{self.level}"'
            raise ValueError(
                f"oracle at level={self.level!r} zeroes groups of weights that the caller defines, and none were "
                f"given. Give Aggregation's groups: "
                f"get_measure(\"oracle\"{options}).set_grouping(Aggregation.group_ids).compute(model, data) "
                "(or set_grouping(f) with any function f(model, level) -> (one int array of group ids per "
                "trainable weight, num_groups)), or use level='weight', which needs no groups."
            )
        result = self.grouping(model, self.level)
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError(f"The oracle's grouping function must return (ids, num_groups), got "
                             f"{type(result).__name__}.")
        ids, num_groups = result
        ids = list(ids)
        if len(ids) != len(variables):
            raise ValueError(f"The oracle's grouping gave {len(ids)} id arrays for {len(variables)} trainable "
                             "weights; give one per model.trainable_weights entry.")
        checked = []
        for index, (array, variable) in enumerate(zip(ids, variables)):
            array = np.asarray(array)
            if array.shape != tuple(variable.shape) or not np.issubdtype(array.dtype, np.integer):
                raise ValueError(f"The oracle's group ids for trainable weight {index} ({variable.path}) must be "
                                 f"integers of shape {tuple(variable.shape)}, got {array.dtype} {array.shape}.")
            if array.size and (array.min() < 0 or array.max() >= num_groups):
                raise ValueError(f"The oracle's group ids for trainable weight {index} ({variable.path}) must lie "
                                 f"in [0, num_groups={num_groups}).")
            checked.append(array.astype(np.int64))
        return checked, int(num_groups)

    def compute(self, model, data=None):
        variables = check_model(model)
        loss = compiled_loss(model)
        if loss is None:
            raise ValueError(f"Model {model.name!r} is not compiled with a loss; compile it first.")
        ids, num_groups = self.groups(model)
        if num_groups > self.max_groups:
            raise ValueError(
                f"oracle at level={self.level!r} takes one forward pass over the data per group: {num_groups} for "
                f"this model, above max_groups={self.max_groups}. Use level='unit' or 'layer', a smaller model, "
                "or raise max_groups."
            )
        batches = list(iterate_batches(data, batch_size=self.batch_size, num_samples=self.num_samples,
                                       check_targets=target_check(model, loss_likelihood(model))))
        count = sum(int(x.shape[0]) for x, _ in batches)

        @tf.function(reduce_retracing=True)
        def batch_total(x, y):
            return tf.cast(loss(y, model(x, training=False)), tf.float64) * tf.cast(tf.shape(x)[0], tf.float64)

        def mean_loss() -> float:
            return sum(float(batch_total(x, y)) for x, y in batches) / count

        originals = [np.array(v) for v in variables]
        flat_ids = np.concatenate([i.ravel() for i in ids])
        tensor_of = np.repeat(np.arange(len(ids)), [i.size for i in ids])
        local_index = np.concatenate([np.arange(i.size) for i in ids])
        order = np.argsort(flat_ids, kind="stable")
        bounds = np.searchsorted(flat_ids[order], np.arange(num_groups + 1))
        increase = np.zeros(num_groups, np.float64)
        try:
            baseline = mean_loss()
            for group in range(num_groups):
                members = order[bounds[group]:bounds[group + 1]]
                touched = np.unique(tensor_of[members])
                for t in touched:
                    removed = originals[t].copy()
                    removed.reshape(-1)[local_index[members[tensor_of[members] == t]]] = 0
                    variables[t].assign(removed)
                increase[group] = mean_loss() - baseline
                for t in touched:
                    variables[t].assign(originals[t])
        finally:
            for variable, original in zip(variables, originals):
                variable.assign(original)
        return as_importances([increase[i] for i in ids], model, self.name)
