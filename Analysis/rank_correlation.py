"""Rank correlations for whole batches at once: Spearman's ρ and Kendall's τ-b along one axis of arrays of any
shape (SciPy's take one pair of vectors at a time), as the bridge study's bootstrap and permutation tests need."""

from __future__ import annotations

import numpy as np
from scipy import stats


def spearman(x, y, axis: int = -1) -> np.ndarray:
    """Spearman's ρ along ``axis`` (Pearson's r of the average ranks, as ``scipy.stats.spearmanr``), for whole
    batches at once; NaN where either side is constant. Written out because SciPy's takes one pair at a time."""
    rx, ry = stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis)
    rx, ry = rx - rx.mean(axis=axis, keepdims=True), ry - ry.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=axis) / np.sqrt((rx * rx).sum(axis=axis) * (ry * ry).sum(axis=axis))


def kendall(x, y, axis: int = -1) -> np.ndarray:
    """Kendall's τ-b along ``axis`` (as ``scipy.stats.kendalltau``), for whole batches at once; NaN where either
    side is constant. Written out because SciPy's takes one pair at a time."""
    x, y = np.moveaxis(np.asarray(x, float), axis, -1), np.moveaxis(np.asarray(y, float), axis, -1)
    sx = np.sign(x[..., :, None] - x[..., None, :])
    sy = np.sign(y[..., :, None] - y[..., None, :])
    pairs = x.shape[-1] * (x.shape[-1] - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((sx * sy).sum(axis=(-2, -1)) / 2
                / np.sqrt((np.abs(sx).sum(axis=(-2, -1)) / 2) * (np.abs(sy).sum(axis=(-2, -1)) / 2))
                if pairs else np.nan)
