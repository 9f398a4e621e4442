"""How a measure's importances become EWC precisions Ω ≥ 0 on a common scale.

Measures differ in scale by orders of magnitude (a Fisher diagonal of 1e-5, a magnitude of 1e-1, a sign-flip
score in (0, 1]) and some are signed (``si``, ``grasp``, ``obd``, ``magnitude_increase``, ``oracle``). A penalty
λ/2 Σ_i Ω_i (w_i - w*_i)² compares λ across measures only when Ω is on one scale, so importances are normalised
once per model (over all trainable weights together), separately for each finished task:

- ``"mean"`` (default): Ω = max(I, 0) / mean(max(I, 0)). Negative importances (by the contract, the least
  important weights) are clipped to 0, i.e. left free; the rest are scaled to mean 1 per model, so the uniform
  penalty (Ω = 1) and every measure spend the same total precision, distributed differently.
- ``"rank"``: Ω = (2 r - 1) / N with r the rank (1 = least important, ties averaged) among the N weights: values
  in (0, 2) with mean 1. Uses only the order of the importances, so signs and heavy tails do not matter.
- ``"max"``: Ω = max(I, 0) / max(I): clipped, in [0, 1].
- ``"none"``: Ω = max(I, 0): clipped only, on the measure's own scale.

When no importance is positive, ``mean`` and ``max`` give Ω = 0 (no penalty) with a warning.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

NORMALIZATIONS = ("mean", "rank", "max", "none")


def normalize_importances(importances, normalization: str = "mean") -> list[np.ndarray]:
    """Ω (float64, ≥ 0, one array per trainable weight, same shapes) from a measure's importances."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"Unknown normalization {normalization!r}; valid: {list(NORMALIZATIONS)}.")
    arrays = [np.asarray(a, dtype=np.float64) for a in importances]
    if not arrays or sum(a.size for a in arrays) == 0:
        raise ValueError("No importances to normalise: expected one array per trainable weight.")
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise FloatingPointError("Importances must be finite to be used as EWC precisions.")
    flat = np.concatenate([a.ravel() for a in arrays])
    if normalization == "rank":
        flat = (2.0 * stats.rankdata(flat) - 1.0) / flat.size
    else:
        flat = np.maximum(flat, 0.0)
        scale = {"mean": flat.mean(), "max": flat.max(), "none": 1.0}[normalization]
        if scale > 0:
            flat = flat / scale
        else:
            warnings.warn(f"No importance is positive, so normalization {normalization!r} gives Ω = 0 everywhere: "
                          "this task adds no penalty.", stacklevel=2)
    return _unflatten(flat, arrays)


def _unflatten(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    result, start = [], 0
    for array in like:
        result.append(flat[start:start + array.size].reshape(array.shape))
        start += array.size
    return result
