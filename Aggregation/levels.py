"""Aggregation levels: which trainable weights are kept or removed together.

Every level assigns each scalar weight of each thresholded tensor a group id. A level function receives one layer
and the thresholded trainable variables it owns (in ``model.trainable_weights`` order; all of them unless
``parameters`` selects fewer, see ``parameters.py``) and returns, per variable, an integer array of that
variable's shape holding group ids local to the layer, plus the layer's number of groups. A level never sees an
unselected tensor: under ``parameters="kernels"`` a Dense unit is its kernel column without its bias.

- ``weight``: no aggregation; every scalar weight is its own group.
- ``unit``:   one group per output unit (channel) of every layer. Within a layer, weights that share the index
  along the output-channel axis form a group: a Dense unit's incoming weights ``kernel[:, j]`` with ``bias[j]``;
  a Conv filter ``kernel[..., j]`` with ``bias[j]``; a BatchNormalization channel's ``gamma[j]`` with ``beta[j]``.
  The output-channel axis is the last axis, except for the kernels of transposed convolutions (axis -2,
  ``(..., filters, in_channels)``) and of depthwise convolutions (the last two axes flattened, matching the
  bias' ``in_channels * depth_multiplier`` channels). If a layer's tensors disagree on the number of channels
  (or for a SeparableConv's depthwise kernel, whose channels are intermediate ones), each tensor is grouped by its
  own channels. A 0-d tensor is a group by itself.
- ``filter``: convolution layers (Conv1D/2D/3D, their transposed, depthwise and separable variants and
  subclasses) grouped as in ``unit``; every other layer per weight.
- ``layer``:  all trainable weights of a layer form one group.

Change from the original toolkit: it reduced the last axis of every tensor on its own, so its "unit" grouped a
Dense *input's outgoing* weights (a row ``kernel[i, :]``) and its conv "filter" grouped one kernel position
across all filters (``kernel[a, b, c, :]``), and it never tied a bias to its unit. Here a group is what the
name says: an output unit's incoming weights with its bias, or a whole convolution filter with its bias.
"""

from __future__ import annotations

import keras
import numpy as np

CONVOLUTION_LAYERS = tuple(
    getattr(keras.layers, name)
    for name in (
        "Conv1D", "Conv2D", "Conv3D",
        "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "DepthwiseConv1D", "DepthwiseConv2D",
        "SeparableConv1D", "SeparableConv2D",
    )
    if hasattr(keras.layers, name)
)
_TRANSPOSED = tuple(getattr(keras.layers, n) for n in ("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
                    if hasattr(keras.layers, n))
_DEPTHWISE = tuple(getattr(keras.layers, n) for n in ("DepthwiseConv1D", "DepthwiseConv2D") if hasattr(keras.layers, n))
_SEPARABLE = tuple(getattr(keras.layers, n) for n in ("SeparableConv1D", "SeparableConv2D") if hasattr(keras.layers, n))


def _channels(layer, variable) -> tuple[np.ndarray, int, bool] | None:
    """(channel index of every weight, number of channels, shares the layer's output channels) or None if 0-d."""
    shape = tuple(variable.shape)
    if not shape:
        return None
    if isinstance(layer, _TRANSPOSED) and variable is layer.kernel and len(shape) >= 2:
        count = shape[-2]
        index = np.broadcast_to(np.arange(count).reshape(count, 1), shape)
        return index, count, True
    depthwise_kernel = (isinstance(layer, _DEPTHWISE) and variable is layer.kernel) or (
        isinstance(layer, _SEPARABLE) and variable is layer.depthwise_kernel
    )
    if depthwise_kernel and len(shape) >= 2:
        count = shape[-2] * shape[-1]
        index = np.broadcast_to(np.arange(count).reshape(shape[-2:]), shape)
        return index, count, not isinstance(layer, _SEPARABLE)
    return np.broadcast_to(np.arange(shape[-1]), shape), shape[-1], True


def weight_groups(layer, variables: list) -> tuple[list[np.ndarray], int]:
    """Every scalar weight is its own group."""
    ids, offset = [], 0
    for variable in variables:
        size = int(np.prod(variable.shape, dtype=np.int64))
        ids.append(offset + np.arange(size, dtype=np.int64).reshape(tuple(variable.shape)))
        offset += size
    return ids, offset


def unit_groups(layer, variables: list) -> tuple[list[np.ndarray], int]:
    """One group per output channel of the layer; see the module docstring for the channel axis of each tensor."""
    channels = [_channels(layer, variable) for variable in variables]
    shared_counts = {c[1] for c in channels if c is not None and c[2]}
    share = len(shared_counts) == 1
    shared_count = shared_counts.pop() if share else 0
    ids, offset = [], shared_count
    for variable, channel in zip(variables, channels):
        if channel is None:
            ids.append(np.full((), offset, dtype=np.int64))
            offset += 1
        elif share and channel[2]:
            ids.append(channel[0].astype(np.int64))
        else:
            ids.append(offset + channel[0].astype(np.int64))
            offset += channel[1]
    return ids, offset


def filter_groups(layer, variables: list) -> tuple[list[np.ndarray], int]:
    """Convolution layers grouped per filter (as ``unit``); all other layers per weight."""
    if isinstance(layer, CONVOLUTION_LAYERS):
        return unit_groups(layer, variables)
    return weight_groups(layer, variables)


def layer_groups(layer, variables: list) -> tuple[list[np.ndarray], int]:
    """All trainable weights of the layer form one group."""
    return [np.zeros(tuple(variable.shape), dtype=np.int64) for variable in variables], 1


def assign_groups(group_function, owners: list, variables: list) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Global group ids for every trainable tensor.

    ``owners[i]`` is the layer owning ``variables[i]``. Layers are numbered in order of first appearance in
    ``variables``. Returns (group id array per variable, layer number of every group, layer number of every
    variable); group ids are consecutive within a layer and layers follow each other.
    """
    layer_numbers: dict[int, int] = {}
    members: list[list[int]] = []
    for position, owner in enumerate(owners):
        number = layer_numbers.setdefault(id(owner), len(layer_numbers))
        if number == len(members):
            members.append([])
        members[number].append(position)
    ids: list[np.ndarray | None] = [None] * len(variables)
    group_layer, offset = [], 0
    for number, positions in enumerate(members):
        local_ids, num_groups = group_function(owners[positions[0]], [variables[p] for p in positions])
        for position, local in zip(positions, local_ids):
            ids[position] = offset + local
        group_layer.append(np.full(num_groups, number, dtype=np.int64))
        offset += num_groups
    variable_layer = np.array([layer_numbers[id(owner)] for owner in owners], dtype=np.int64)
    return ids, np.concatenate(group_layer), variable_layer
