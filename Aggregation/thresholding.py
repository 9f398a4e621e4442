"""Thresholding: replace the chosen trainable weights of a Keras model.

The fast path, for many thresholds of one set of importances (each threshold then costs one ``np.where`` and one
``variable.assign`` per trainable tensor, no more than a forward pass)::

    original = get_weights(model)                                      # snapshot, once
    ranking = rank_groups(model, importances, level, method, scope, order, seed, parameters)   # once
    values = replacement_values(original, replacement, seed)           # once
    for fraction in fractions:
        masks = ranking.masks(fraction)
        apply_masks(model, original, values, masks)                    # model now thresholded
        ...evaluate...; result = ThresholdResult.from_masks(masks, ranking.selected)
    restore_weights(model, original)

``threshold_model`` is that path for a single fraction. Only ``model.trainable_weights`` are ever assigned:
non-trainable state (BatchNormalization moving statistics, frozen layers) is never touched, nor are the trainable
tensors that ``parameters`` does not select. Replacement values do not depend on ``parameters``: a weight removed
under ``"kernels"`` takes the value it would take under ``"all"``. The fully replaced ("chance") model of a
selection is ``ranking.masks(1.0)``, or, before any ranking, ``selected_tensors(model, parameters)`` broadcast to
every tensor's shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from Aggregation import _checks
from Aggregation.ranking import rank_groups
from Aggregation.registry import REPLACEMENT_FUNCTIONS, REPLACEMENTS, check_choice


@dataclass(frozen=True, eq=False)
class ThresholdResult:
    """What one threshold removed.

    Attributes:
        fraction_removed: replaced parameters / thresholded parameters (``num_removed / num_parameters``); the
            thresholded parameters are those of the selected tensors (all trainable ones by default).
        num_removed: number of replaced trainable parameters.
        num_parameters: number of thresholded trainable parameters.
        masks: one bool array per ``model.trainable_weights`` entry, True where the weight was replaced.
    """

    fraction_removed: float
    num_removed: int
    num_parameters: int
    masks: list[np.ndarray] = field(repr=False)

    @classmethod
    def from_masks(cls, masks: list[np.ndarray], selected: list[bool] | None = None) -> "ThresholdResult":
        """Count ``masks``; ``selected`` (per tensor, e.g. ``Ranking.selected``; default all) says which tensors
        are thresholded and so count in ``num_parameters``. A mask of an unselected tensor must be all False."""
        selected = [True] * len(masks) if selected is None else [bool(chosen) for chosen in selected]
        if len(selected) != len(masks):
            raise ValueError(f"selected has {len(selected)} entries but there are {len(masks)} masks; give one "
                             "bool per model.trainable_weights entry (Ranking.selected).")
        for index, (mask, chosen) in enumerate(zip(masks, selected)):
            if not chosen and np.any(mask):
                raise ValueError(f"masks[{index}] replaces weights of a tensor that selected says is not "
                                 "thresholded; pass the selection the masks were made with (Ranking.selected).")
        num_removed = int(sum(np.count_nonzero(mask) for mask in masks))
        num_parameters = int(sum(mask.size for mask, chosen in zip(masks, selected) if chosen))
        return cls(num_removed / num_parameters, num_removed, num_parameters, masks)


def get_weights(model: keras.Model) -> list[np.ndarray]:
    """A copy of every ``model.trainable_weights`` entry as a NumPy array, in that order."""
    return [np.array(variable.numpy(), copy=True) for variable in _checks.trainable_variables(model)]


def restore_weights(model: keras.Model, weights: list[np.ndarray]) -> None:
    """Assign ``weights`` (as returned by ``get_weights``) back to ``model.trainable_weights``."""
    variables = _checks.trainable_variables(model)
    for variable, value in zip(variables, _checks.check_arrays(weights, variables, "weights")):
        variable.assign(value)


def replacement_values(weights: list[np.ndarray], replacement: str = "noise", seed: int = 0) -> list[np.ndarray]:
    """The value every weight takes if replaced, one array per tensor of ``weights`` (the ORIGINAL weights).

    ``noise``: Normal(0, (0.1 * std of that original tensor)^2); ``zero``: 0. Drawn in tensor order from
    ``np.random.default_rng(seed)``. See ``replacements.py``.
    """
    check_choice("replacement", replacement, REPLACEMENTS)
    seed = _checks.check_seed(seed)
    weights = [np.asarray(weight) for weight in weights]
    return REPLACEMENT_FUNCTIONS[replacement](weights, np.random.default_rng(seed))


def apply_masks(
    model: keras.Model,
    original_weights: list[np.ndarray],
    replacement_values: list[np.ndarray],
    masks: list[np.ndarray],
) -> None:
    """Set every trainable variable to ``np.where(mask, replacement, original)``, in place.

    Every trainable variable is assigned (an all-False mask restores the original), so the model's state
    depends only on the arguments, not on what was applied before.
    """
    variables = _checks.trainable_variables(model)
    originals = _checks.check_arrays(original_weights, variables, "original_weights")
    values = _checks.check_arrays(replacement_values, variables, "replacement_values")
    masks = _checks.check_arrays(masks, variables, "masks")
    for variable, original, value, mask in zip(variables, originals, values, masks):
        variable.assign(np.where(mask, value, original).astype(original.dtype, copy=False))


def threshold_model(
    model: keras.Model,
    importances: list[np.ndarray],
    fraction: float,
    level: str = "weight",
    method: str = "mean",
    scope: str = "layer",
    order: str = "least",
    replacement: str = "noise",
    seed: int = 0,
    parameters: str = "all",
) -> ThresholdResult:
    """Replace a fraction of the model's trainable weight groups, in place, and say what was replaced.

    The tensors selected by ``parameters`` ("all", "kernels", "no_normalization") are grouped (``level``), groups
    scored (``method``) and ordered (``scope``: "layer", "model" or "tensor"; ``order``; ties broken with
    ``seed``) by ``rank_groups``; in every scope unit the first ``floor(fraction * N + 0.5)`` of its N groups are
    replaced (``replacement`` values drawn with ``seed`` from the model's current weights, see
    ``replacement_values``). ``fraction=0`` leaves the model bit-identical; ``fraction=1`` replaces every selected
    weight. ``fraction_removed`` in the result is relative to the selected parameters.

    The given model is modified: snapshot it first with ``get_weights`` and put it back with ``restore_weights``.
    To evaluate many fractions, rank once and use ``Ranking.masks`` with ``apply_masks`` (see the module docstring).
    """
    fraction = _checks.check_fraction(fraction)
    check_choice("replacement", replacement, REPLACEMENTS)
    ranking = rank_groups(model, importances, level, method, scope, order, seed, parameters)
    original = get_weights(model)
    masks = ranking.masks(fraction)
    apply_masks(model, original, replacement_values(original, replacement, seed), masks)
    return ThresholdResult.from_masks(masks, ranking.selected)
