"""Aggregation: decide which trainable weights are removed together, and replace them in a Keras model.

Importances arrive as one NumPy array per ``model.trainable_weights`` entry (same shape, larger = more important;
the WeightImportance contract). This package never imports WeightImportance: the two meet only in arrays.

- parameters (``PARAMETERS``, ``parameters.py``): which trainable tensors are thresholded at all: ``all``
  (default), ``kernels`` (Dense, EinsumDense and convolution kernels, identified by owning layer and identity;
  no biases, normalization parameters or embeddings) or ``no_normalization`` (all but the tensors of
  BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization). Unselected tensors are in no
  group, never ranked or replaced, and fractions (``fraction_removed`` included) count selected weights only.
- level (``LEVELS``, ``levels.py``): which of the selected weights form a group: each ``weight``; each output
  ``unit`` of every layer (a Dense unit's incoming weights ``kernel[:, j]`` with ``bias[j]``, a Conv filter
  ``kernel[..., j]`` with ``bias[j]``, a BatchNormalization channel's ``gamma[j]`` with ``beta[j]``; only the
  selected tensors take part, so under ``kernels`` a unit is ``kernel[:, j]`` alone); each ``filter`` of the
  convolution layers (every other layer per weight); each ``layer``.
- method (``METHODS``, ``methods.py``): a group's score from its members' importances: mean, min, max, sum,
  l2 = sqrt(sum s_i^2).
- scope (``SCOPES``, ``scopes.py``): ``layer`` (each layer removes its own fraction of its own groups), ``model``
  (one ranking across the model) or ``tensor`` (each trainable tensor removes its own fraction; the level is
  applied within each tensor, so a unit of a kernel is ``kernel[..., j]`` alone and a bias is a tensor of its own).
- order (``ORDERS``): ``least`` important removed first, or ``most``.
- replacement (``REPLACEMENTS``, ``replacements.py``): ``noise`` ~ Normal(0, (0.1 * std of the original tensor)^2)
  or ``zero``.

A fraction f removes exactly floor(f * N + 0.5) (round half up) groups of every scope unit of N groups, ties
broken at random with the seed; f=0 changes nothing, f=1 replaces every selected weight, and the masks of
increasing fractions are nested. ``rank_groups`` ranks once; each threshold is a cheap cut (``Ranking.masks``)
applied with ``apply_masks`` and counted with ``ThresholdResult.from_masks(masks, ranking.selected)``. Only the
selected trainable weights are assigned new values, never non-trainable state (BN statistics);
``selected_tensors(model, parameters)`` says which tensors a selection thresholds (e.g. for the chance mask).
The default ``parameters="all"`` with scopes ``layer``/``model`` gives bit-identical results to the package before
``parameters`` and ``scope="tensor"`` existed.

Change from the original toolkit: it reduced the last axis of every tensor on its own, so its "unit" grouped a
Dense input's *outgoing* weights (``kernel[i, :]``) and its conv "filter" grouped one kernel position across all
filters (``kernel[a, b, c, :]``), without the bias. Here a unit is an output unit's incoming weights with its
bias and a filter is a whole convolution filter with its bias. Layers owning each variable are found by walking
the model recursively and matching variables by identity, never by name.
"""

from Aggregation.grouping import group_ids, selected_tensors
from Aggregation.ranking import Ranking, num_groups_to_remove, rank_groups
from Aggregation.registry import LEVELS, METHODS, ORDERS, PARAMETERS, REPLACEMENTS, SCOPES
from Aggregation.structure import owning_layers
from Aggregation.thresholding import (
    ThresholdResult,
    apply_masks,
    get_weights,
    replacement_values,
    restore_weights,
    threshold_model,
)

__all__ = [
    "LEVELS",
    "METHODS",
    "ORDERS",
    "PARAMETERS",
    "REPLACEMENTS",
    "SCOPES",
    "Ranking",
    "ThresholdResult",
    "apply_masks",
    "get_weights",
    "group_ids",
    "num_groups_to_remove",
    "owning_layers",
    "rank_groups",
    "replacement_values",
    "restore_weights",
    "selected_tensors",
    "threshold_model",
]
