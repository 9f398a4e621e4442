"""Scopes: the units within which a fraction is removed; each scope unit of N groups removes floor(f * N + 0.5).

A scope function receives the level's groups of the thresholded tensors (``levels.assign_groups``: one group id
array per tensor, the layer of every group, the layer of every tensor) and returns ``(group id array per tensor,
layer of every group, scope unit of every group, scope unit of every tensor)``:

- ``layer``: every layer is a scope unit; its groups are ranked among themselves.
- ``model``: the whole model is one scope unit (one ranking across layers).
- ``tensor``: every trainable tensor is a scope unit, and the level is applied *within* each tensor: a group is
  the part of a level group that lies in one tensor. At level ``weight`` only the scope changes (each kernel,
  bias, BatchNormalization gamma and beta removes its own fraction of its weights); at ``unit`` a unit of a
  kernel is ``kernel[..., j]`` alone and a bias (or gamma, beta) is a tensor of its own whose units are its
  entries, as in PyTorch's per-tensor structured pruning (``torch.nn.utils.prune.ln_structured``); ``filter``
  likewise for convolution kernels (other tensors per weight); at ``layer`` every tensor is one group, so each
  tensor is replaced whole once f >= 0.5 (as level ``layer`` at scope ``layer`` does with whole layers).
"""

from __future__ import annotations

import numpy as np


def layer_scope(ids: list[np.ndarray], group_layers: np.ndarray, tensor_layers: np.ndarray):
    """Each layer is a scope unit."""
    return ids, group_layers, group_layers, tensor_layers


def model_scope(ids: list[np.ndarray], group_layers: np.ndarray, tensor_layers: np.ndarray):
    """The model is one scope unit."""
    return ids, group_layers, np.zeros(group_layers.size, dtype=np.int64), np.zeros(tensor_layers.size, dtype=np.int64)


def tensor_scope(ids: list[np.ndarray], group_layers: np.ndarray, tensor_layers: np.ndarray):
    """Each tensor is a scope unit; groups are split along tensor boundaries (kept in the level's id order)."""
    tensor_ids, group_tensors, offset = [], [], 0
    for tensor, local in enumerate(ids):
        uniques, inverse = np.unique(local, return_inverse=True)
        tensor_ids.append(offset + inverse.reshape(local.shape).astype(np.int64))
        group_tensors.append(np.full(uniques.size, tensor, dtype=np.int64))
        offset += uniques.size
    group_tensors = np.concatenate(group_tensors)
    return tensor_ids, tensor_layers[group_tensors], group_tensors, np.arange(len(ids), dtype=np.int64)
