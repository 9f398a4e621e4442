"""The rule that chooses λ, defined once: the bridge study's runner applies it to decide where to extend the λ
grid (``Bridge/extension.py``) and its analysis to decide at which λ each measure is reported
(``Analysis.bridge_study``), so both choose alike.
"""

from __future__ import annotations

import numpy as np


def choose_lambdas(selection) -> np.ndarray:
    """Per measure, the index of the λ with the highest mean over trials of ``selection`` [..., trial, measure, λ]
    (the first, i.e. smallest λ, on a tie).

    NaN is a value not measured: it is left out of the mean (as ``np.nanmean``), and a λ with no value in any
    trial (a measure not run at it, when measures were run at different λ) is never chosen."""
    selection = np.asarray(selection, dtype=float)
    measured = ~np.isnan(selection)
    counts = measured.sum(axis=-3)
    sums = np.where(measured, selection, 0.0).sum(axis=-3)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)
    return np.argmax(means, axis=-1)
