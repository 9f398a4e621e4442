"""Mean thresholding curves across trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from Analysis.columns import CURVE_KEYS


def compute_curves(results: pd.DataFrame, value: str = "val_loss", confidence: float = 0.95) -> pd.DataFrame:
    """Mean and spread across trials of ``value`` at each threshold of each curve.

    One row per (``CURVE_KEYS``, threshold) with ``fraction_removed`` (mean over trials: at unit, filter or layer
    level the fraction actually removed can differ a little between trials), ``num_trials``, ``mean``, ``std``,
    ``standard_error`` (``std / sqrt(n)``, NaN for one trial) and a ``confidence`` t-interval ``ci_low``,
    ``ci_high``. Sorted by curve, then fraction removed.
    """
    if value not in results.columns:
        raise ValueError(f"Cannot draw curves of {value!r}: no such column. Columns are {list(results.columns)}.")
    keys = [*CURVE_KEYS, "threshold"]
    grouped = results.groupby(keys, sort=True, dropna=False)
    curves = grouped.agg(
        fraction_removed=("fraction_removed", "mean"),
        num_trials=(value, "count"),
        mean=(value, "mean"),
        std=(value, "std"),
    ).reset_index()
    n = curves["num_trials"].to_numpy(dtype=float)
    std = curves["std"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        standard_error = np.where(n > 1, std / np.sqrt(n), np.nan)
        half_width = np.where(n > 1, stats.t.ppf((1 + confidence) / 2, np.maximum(n - 1, 1)) * standard_error, np.nan)
    curves["standard_error"] = standard_error
    curves["ci_low"] = curves["mean"] - half_width
    curves["ci_high"] = curves["mean"] + half_width
    curves = curves.sort_values([*CURVE_KEYS, "fraction_removed", "threshold"], kind="stable").reset_index(drop=True)
    return curves[[*keys, "fraction_removed", "num_trials", "mean", "std", "standard_error", "ci_low", "ci_high"]]
