"""Oracle: the actual increase of the loss when a group of weights is removed, group by group.

    importance(w) = L(data; weights of w's group set to 0) - L(data),     L = (1/N) sum_n loss(y_n, f(x_n))

with ``loss`` the model's compiled loss on the evaluation examples (the ``data`` given to ``compute``), the model
in inference mode (``training=False``). Every weight of a group gets its group's loss increase; a negative value
means removing the group lowers the loss. This is what the other measures estimate, so it serves to validate
them (see ``Experiment/oracle.py``); it is meant for small models.

**Cost: one forward pass over the data per group**, plus one for the unchanged model. ``max_groups`` (default
2000) refuses larger jobs with an error saying how many passes they would take.

Removal units (``level``), defined here to match the levels of the same names in ``Aggregation`` (this package does
not import it). Each trainable variable belongs to the innermost layer that lists it (the model is walked
recursively; variables are matched by identity, never by name).
- ``"unit"`` (default): within a layer, the entries of its trainable tensors sharing one index on the output-channel
  axis, the last axis: a Dense unit's ``kernel[:, j]`` and ``bias[j]``, a Conv filter's ``kernel[..., j]`` and
  ``bias[j]``, a BatchNormalization channel's ``gamma[j]`` and ``beta[j]``. A transposed convolution's kernel uses
  axis -2, a depthwise kernel its last two axes flattened (matching the bias). When a layer's tensors disagree on
  the number of channels (or for a SeparableConv's depthwise kernel) each tensor is grouped on its own; a 0-d
  tensor is a group by itself.
- ``"weight"``: every scalar weight on its own (one forward pass per parameter: tiny models only).
- ``"layer"``: all trainable weights of a layer together.

Removal replaces the group's weights by zero (``replacement="zero"``, the only choice). Every weight is restored to
its exact original value afterwards; non-trainable state (BatchNormalization statistics) is never assigned.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from WeightImportance._data import iterate_batches
from WeightImportance._likelihood import _compiled_loss
from WeightImportance.base import ImportanceMeasure, as_importances, check_model

LEVELS = ("unit", "weight", "layer")
REPLACEMENTS = ("zero",)


def _layer_classes(*names):
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))


_TRANSPOSED = _layer_classes("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
_DEPTHWISE = _layer_classes("DepthwiseConv1D", "DepthwiseConv2D")
_SEPARABLE = _layer_classes("SeparableConv1D", "SeparableConv2D")


def owning_layers(model: keras.Model, variables: list) -> list:
    """The innermost layer owning each variable (sublayers are visited before the layers holding them)."""
    ordered, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, keras.Model):
            children = list(layer.layers)
        else:
            flatten = getattr(layer, "_flatten_layers", None)
            children = list(flatten(include_self=False, recursive=False)) if flatten is not None else []
        for child in children:
            visit(child)
        ordered.append(layer)

    visit(model)
    owner_of: dict[int, object] = {}
    for layer in ordered:
        for variable in layer.trainable_weights:
            owner_of.setdefault(id(variable), layer)
    return [owner_of.get(id(variable), model) for variable in variables]


def _channels(layer, variable):
    """(channel index of every entry, number of channels, shares the layer's output channels), None if 0-d."""
    shape = tuple(variable.shape)
    if not shape:
        return None
    if isinstance(layer, _TRANSPOSED) and variable is layer.kernel and len(shape) >= 2:
        return np.broadcast_to(np.arange(shape[-2]).reshape(shape[-2], 1), shape), shape[-2], True
    depthwise = (isinstance(layer, _DEPTHWISE) and variable is layer.kernel) or (
        isinstance(layer, _SEPARABLE) and variable is layer.depthwise_kernel)
    if depthwise and len(shape) >= 2:
        count = shape[-2] * shape[-1]
        return np.broadcast_to(np.arange(count).reshape(shape[-2:]), shape), count, not isinstance(layer, _SEPARABLE)
    return np.broadcast_to(np.arange(shape[-1]), shape), shape[-1], True


def _unit_ids(layer, variables) -> tuple[list[np.ndarray], int]:
    channels = [_channels(layer, variable) for variable in variables]
    shared = {c[1] for c in channels if c is not None and c[2]}
    share = len(shared) == 1
    offset = shared.pop() if share else 0
    ids = []
    for channel in channels:
        if channel is None:
            ids.append(np.full((), offset, np.int64))
            offset += 1
        elif share and channel[2]:
            ids.append(channel[0].astype(np.int64))
        else:
            ids.append(offset + channel[0].astype(np.int64))
            offset += channel[1]
    return ids, offset


def group_ids(model: keras.Model, level: str) -> tuple[list[np.ndarray], int]:
    """Per trainable tensor, the (model-wide) group of every entry at ``level``; and the number of groups."""
    variables = list(model.trainable_weights)
    owners = owning_layers(model, variables)
    layers: dict[int, list[int]] = {}
    for position, owner in enumerate(owners):
        layers.setdefault(id(owner), []).append(position)
    ids: list[np.ndarray | None] = [None] * len(variables)
    offset = 0
    for positions in layers.values():
        members = [variables[p] for p in positions]
        if level == "unit":
            local, count = _unit_ids(owners[positions[0]], members)
        elif level == "layer":
            local, count = [np.zeros(tuple(v.shape), np.int64) for v in members], 1
        else:
            sizes = [int(np.prod(v.shape, dtype=np.int64)) for v in members]
            starts = np.cumsum([0] + sizes[:-1])
            local = [start + np.arange(size, dtype=np.int64).reshape(tuple(v.shape))
                     for start, size, v in zip(starts, sizes, members)]
            count = sum(sizes)
        for position, array in zip(positions, local):
            ids[position] = offset + np.asarray(array, np.int64)
        offset += count
    return ids, offset


class Oracle(ImportanceMeasure):
    """importance = the loss increase on ``data`` when the weight's group is set to zero (expensive; see above).

    Options: ``level`` ("unit", "weight", "layer"), ``replacement`` ("zero"), ``num_samples`` (examples used, all
    if None), ``batch_size`` (examples per forward pass, default 1024), ``max_groups`` (refuse models with more
    groups than this at ``level``, default 2000).
    """

    name = "oracle"

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

    def compute(self, model, data=None):
        variables = check_model(model)
        loss = _compiled_loss(model)
        if loss is None:
            raise ValueError(f"Model {model.name!r} is not compiled with a loss; compile it first.")
        ids, num_groups = group_ids(model, self.level)
        if num_groups > self.max_groups:
            raise ValueError(
                f"oracle at level={self.level!r} takes one forward pass over the data per group: {num_groups} for "
                f"this model, above max_groups={self.max_groups}. Use level='unit' or 'layer', a smaller model, "
                "or raise max_groups."
            )
        batches = list(iterate_batches(data, batch_size=self.batch_size, num_samples=self.num_samples))
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
