"""Mean thresholding curves across trials, on a common grid per curve.

The grid of a curve (``CURVE_KEYS``) is the union of the thresholds any of its trials measured; a grid point's
``fraction_removed`` is the mean fraction actually removed by the trials that measured that threshold (at unit,
filter or layer level it differs a little between trials). At each grid point a trial contributes the value it
measured there, or, where it did not measure that threshold (``threshold_spacing`` ``adaptive`` or
``geometric``, or a curve cut short), its own curve linearly interpolated over ``fraction_removed``; beyond the
range of fractions a trial measured it contributes nothing (no extrapolation). On a grid every trial measured in
full, as a linear one, this is exactly the mean per threshold. The union of measured thresholds rather than a
fixed fine grid keeps every measured point and invents none between them: linear interpolation adds no
information that a finer grid would show. Per-trial metrics never use this grid (``metrics``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from Analysis.columns import CURVE_KEYS, with_optional_columns
from Schema import KEY_DIGITS

CURVE_COLUMNS = (*CURVE_KEYS, "threshold", "fraction_removed", "num_trials", "num_measured", "mean", "std",
                 "standard_error", "ci_low", "ci_high", "chance_loss")


def compute_curves(results: pd.DataFrame, value: str = "val_loss", confidence: float = 0.95) -> pd.DataFrame:
    """Mean and spread across trials of ``value`` at each point of each curve's grid (module docstring).

    One row per (``CURVE_KEYS``, threshold) with ``fraction_removed``, ``num_trials`` (trials with a value
    there, measured or interpolated), ``num_measured`` (trials that measured that threshold), ``mean``, ``std``,
    ``standard_error`` (``std / sqrt(n)``, NaN for one trial), a ``confidence`` t-interval ``ci_low``,
    ``ci_high``, and ``chance_loss`` (the curve's mean ``chance_val_loss``, the loss with every thresholded
    parameter replaced; NaN unless ``value`` is ``val_loss``). Sorted by curve, then fraction removed.
    """
    if value not in results.columns:
        raise ValueError(f"Cannot draw curves of {value!r}: no such column. Columns are {list(results.columns)}.")
    results = with_optional_columns(results).assign(threshold=lambda d: d["threshold"].round(KEY_DIGITS))
    parts = []
    for keys, curve in results.groupby(list(CURVE_KEYS), sort=True, dropna=False):
        chance = curve["chance_val_loss"].mean() if value == "val_loss" else np.nan
        parts.append(_curve_on_grid(curve, value).assign(**dict(zip(CURVE_KEYS, keys)), chance_loss=chance))
    if not parts:
        return pd.DataFrame(columns=list(CURVE_COLUMNS))
    curves = pd.concat(parts, ignore_index=True)
    n = curves["num_trials"].to_numpy(dtype=float)
    std = curves["std"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        standard_error = np.where(n > 1, std / np.sqrt(n), np.nan)
        half_width = np.where(n > 1, stats.t.ppf((1 + confidence) / 2, np.maximum(n - 1, 1)) * standard_error, np.nan)
    curves["standard_error"] = standard_error
    curves["ci_low"] = curves["mean"] - half_width
    curves["ci_high"] = curves["mean"] + half_width
    curves = curves.sort_values([*CURVE_KEYS, "fraction_removed", "threshold"], kind="stable").reset_index(drop=True)
    curves = curves[list(CURVE_COLUMNS)]
    curves.attrs["confidence"] = confidence  # what the ci band of its figures shows
    return curves


def _curve_on_grid(curve: pd.DataFrame, value: str) -> pd.DataFrame:
    """Thresholds x trials of ``value`` for one curve, completed by each trial's own interpolation, summarised."""
    fractions = curve.pivot_table(index="threshold", columns="trial", values="fraction_removed", aggfunc="mean",
                                  dropna=False)
    values = curve.pivot_table(index="threshold", columns="trial", values=value, aggfunc="mean", dropna=False)
    values = values.reindex(index=fractions.index, columns=fractions.columns)
    grid = fractions.mean(axis=1, skipna=True).to_numpy(dtype=float)
    measured = fractions.notna().to_numpy()
    table = values.to_numpy(dtype=float, copy=True)
    for j in range(table.shape[1]):
        if measured[:, j].all():
            continue
        x, y = fractions.to_numpy(dtype=float)[measured[:, j], j], table[measured[:, j], j]
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        inside = ~measured[:, j] & (grid >= x[0]) & (grid <= x[-1])
        table[inside, j] = np.interp(grid[inside], x, y)
    with np.errstate(invalid="ignore"):
        count = np.sum(~np.isnan(table), axis=1)
        mean = np.where(count > 0, np.nansum(table, axis=1) / np.maximum(count, 1), np.nan)
        std = pd.DataFrame(table).std(axis=1, ddof=1).to_numpy(dtype=float)
    return pd.DataFrame({"threshold": fractions.index.to_numpy(dtype=float), "fraction_removed": grid,
                         "num_trials": count, "num_measured": measured.sum(axis=1), "mean": mean, "std": std})
