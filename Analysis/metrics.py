"""Per-trial metrics of one thresholding curve (validation loss against the fraction of weights removed).

For one trial and one curve (``CURVE_KEYS``), with the points ``(f_k, L_k)`` sorted by fraction removed ``f``:

- ``auc``: trapezoid area under ``L`` over the fractions actually removed, ``sum_k (f_{k+1} - f_k)(L_k + L_{k+1})/2``.
- ``normalized_auc``: ``(A - L0) / (Lc - L0)`` where ``A`` is the area over the whole range ``[0, 1]``, ``L0`` the
  validation loss with nothing removed (threshold 0) and ``Lc`` the ``chance_val_loss`` (every weight replaced).
  0 = the loss stays at the trained loss, 1 = at chance everywhere; below 0 or above 1 is possible. Where the
  measured fractions do not reach 0 or 1 the curve is completed with the known end points ``(0, L0)`` and
  ``(1, Lc)`` (removing every weight gives the chance model by definition). NaN where ``Lc <= L0`` (an untrained
  model is no better than chance, e.g. at epoch 0), since the scale is then undefined.
- ``max_fraction_within_tolerance``: the largest fraction removed before the first point whose loss exceeds the
  tolerance: ``L > L0 (1 + tolerance)`` (``tolerance_reference="loss"``, default, relative to the trained loss),
  or ``L > L0 + tolerance (Lc - L0)`` (``"chance"``, relative to the gap to chance). A NaN or infinite loss counts
  as exceeding. If no point exceeds it, the largest fraction measured.
- ``tolerance_crossing``: the same limit ``L*``, but the fraction at which the curve first crosses it, linearly
  interpolated between the last point within it ``(f0, L0')`` and the first beyond it ``(f1, L1)``:
  ``f = f0 + (L* - L0') / (L1 - L0') (f1 - f0)``; 1.0 if no point exceeds it; ``f0`` itself when ``L1`` is NaN or
  infinite (nothing to interpolate towards). A first point already beyond the limit is interpolated from
  ``(0, L0)``. Unlike ``max_fraction_within_tolerance`` it does not snap to the measured fractions, so grid-step
  ties disappear; the bridge study uses it, the thresholding report keeps ``max_fraction_within_tolerance``.

Each curve is measured from its own points only, so curves whose thresholds differ between measures and trials
(``threshold_spacing`` ``geometric`` or ``adaptive``) need no common grid: the trapezoid rule is exact for the
piecewise-linear curve through whatever points were measured, and the tolerance fraction is the last measured
point before the first one that exceeds the limit (its resolution is the spacing of that curve's points there).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from Analysis.columns import CURVE_KEYS, with_optional_columns
from Schema import DEFAULT_TOLERANCE
TOLERANCE_REFERENCES = ("loss", "chance")
METRIC_COLUMNS = ("auc", "normalized_auc", "max_fraction_within_tolerance")


def curve_auc(fraction_removed, values) -> float:
    """Trapezoid area under ``values`` over ``fraction_removed`` (points sorted by fraction first)."""
    fraction_removed, values = _sorted(fraction_removed, values)
    if fraction_removed.size < 2:
        return 0.0 if fraction_removed.size == 1 else np.nan
    return float(np.trapezoid(values, fraction_removed))


def normalized_auc(fraction_removed, values, initial_loss: float, chance_loss: float) -> float:
    """``(A - L0) / (Lc - L0)`` with ``A`` the area over ``[0, 1]`` (see the module docstring)."""
    if not np.isfinite(initial_loss) or not np.isfinite(chance_loss) or chance_loss <= initial_loss:
        return np.nan
    fraction_removed, values = _sorted(fraction_removed, values)
    if fraction_removed.size == 0:
        return np.nan
    if fraction_removed[0] > 0:
        fraction_removed, values = np.r_[0.0, fraction_removed], np.r_[initial_loss, values]
    if fraction_removed[-1] < 1:
        fraction_removed, values = np.r_[fraction_removed, 1.0], np.r_[values, chance_loss]
    area = float(np.trapezoid(values, fraction_removed))
    return (area - initial_loss) / (chance_loss - initial_loss)


def max_fraction_within_tolerance(fraction_removed, values, initial_loss: float, tolerance: float = DEFAULT_TOLERANCE,
                                  chance_loss: float = np.nan, tolerance_reference: str = "loss") -> float:
    """Largest fraction removed before the first point whose loss exceeds the tolerance (module docstring)."""
    limit = loss_limit(initial_loss, tolerance, chance_loss, tolerance_reference)
    fraction_removed, values = _sorted(fraction_removed, values)
    if fraction_removed.size == 0 or np.isnan(limit):
        return np.nan
    exceeds = ~(values <= limit)  # NaN counts as exceeding
    if not exceeds.any():
        return float(fraction_removed[-1])
    first = int(np.argmax(exceeds))
    return float(fraction_removed[first - 1]) if first > 0 else 0.0


def tolerance_crossing(fraction_removed, values, initial_loss: float, tolerance: float = DEFAULT_TOLERANCE,
                       chance_loss: float = np.nan, tolerance_reference: str = "loss") -> float:
    """Fraction removed at which the curve first crosses the tolerance limit, interpolated linearly between the
    two measured points around the crossing; 1.0 if never crossed (module docstring)."""
    limit = loss_limit(initial_loss, tolerance, chance_loss, tolerance_reference)
    fraction_removed, values = _sorted(fraction_removed, values)
    if fraction_removed.size == 0 or np.isnan(limit):
        return np.nan
    exceeds = ~(values <= limit)  # NaN counts as exceeding
    if not exceeds.any():
        return 1.0
    first = int(np.argmax(exceeds))
    if first > 0:
        f0, v0 = float(fraction_removed[first - 1]), float(values[first - 1])
    else:
        f0, v0 = 0.0, float(initial_loss)
    f1, v1 = float(fraction_removed[first]), float(values[first])
    if not np.isfinite(v1) or f1 <= f0 or not v1 > v0:
        return f0
    return f0 + (limit - v0) / (v1 - v0) * (f1 - f0)


def loss_limit(initial_loss: float, tolerance: float, chance_loss: float = np.nan,
               tolerance_reference: str = "loss") -> float:
    """The highest loss still within the tolerance of the trained loss ``initial_loss``."""
    if tolerance_reference not in TOLERANCE_REFERENCES:
        raise ValueError(f"Unknown tolerance reference {tolerance_reference!r}; valid ones are "
                         f"{list(TOLERANCE_REFERENCES)}.")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be a non-negative number, got {tolerance!r}.")
    if tolerance_reference == "loss":
        return initial_loss + tolerance * abs(initial_loss)
    return initial_loss + tolerance * (chance_loss - initial_loss)


def trial_metrics(results: pd.DataFrame, tolerance: float = DEFAULT_TOLERANCE, tolerance_reference: str = "loss",
                  value: str = "val_loss") -> pd.DataFrame:
    """One row per trial and curve: ``trial``, ``seed``, the ``CURVE_KEYS``, ``initial_loss`` (L0), ``chance_loss``
    (Lc), ``num_points``, ``min_fraction``, ``max_fraction``, and the metrics ``auc``, ``normalized_auc``,
    ``max_fraction_within_tolerance`` (see the module docstring).

    L0 is the loss at threshold 0 of the curve; if the curve lacks threshold 0, the mean loss at threshold 0 of
    the other curves of the same (trial, task, epoch) (nothing removed, so the same model); else NaN.
    """
    loss_limit(0.0, tolerance, 0.0, tolerance_reference)  # validates the options before any work
    data = with_optional_columns(results).sort_values(["trial", *CURVE_KEYS, "fraction_removed", "threshold"],
                                                      kind="stable")
    unthresholded = data.loc[data["threshold"] == 0].groupby(["trial", "task", "epoch"])[value].mean()
    rows, zero_is_nan, has_nan = [], 0, 0
    for keys, curve in data.groupby(["trial", *CURVE_KEYS], sort=False, dropna=False):
        fractions = curve["fraction_removed"].to_numpy(dtype=float)
        values = curve[value].to_numpy(dtype=float)
        at_zero = curve["threshold"].to_numpy() == 0
        if at_zero.any():
            initial = float(values[at_zero].mean())
            zero_is_nan += int(np.isnan(initial))
        else:
            initial = float(unthresholded.get((keys[0], keys[1], keys[2]), np.nan))
        has_nan += int(np.isnan(values).any())
        chance = float(curve["chance_val_loss"].mean())
        rows.append((
            keys[0],
            int(curve["seed"].iloc[0]) if "seed" in curve else -1,
            *keys[1:],
            initial,
            chance,
            len(curve),
            float(fractions.min()),
            float(fractions.max()),
            curve_auc(fractions, values),
            normalized_auc(fractions, values, initial, chance),
            max_fraction_within_tolerance(fractions, values, initial, tolerance, chance, tolerance_reference),
            tolerance_crossing(fractions, values, initial, tolerance, chance, tolerance_reference),
        ))
    columns = ["trial", "seed", *CURVE_KEYS, "initial_loss", "chance_loss", "num_points", "min_fraction",
               "max_fraction", *METRIC_COLUMNS, "tolerance_crossing"]
    metrics = pd.DataFrame(rows, columns=columns)
    _warn_undefined(metrics, value, zero_is_nan, has_nan)
    return metrics


def _warn_undefined(metrics: pd.DataFrame, value: str, zero_is_nan: int, has_nan: int) -> None:
    """One warning per reason a metric is NaN, naming the column responsible."""
    unknown = int(metrics["initial_loss"].isna().sum())
    if unknown > zero_is_nan:
        warnings.warn(
            f"{unknown - zero_is_nan} curves have no evaluation at threshold 0 in their (trial, task, epoch), so "
            "their trained loss L0 is unknown and their normalized AUC and max fraction within tolerance are NaN.",
            stacklevel=3,
        )
    if zero_is_nan:
        warnings.warn(
            f"{zero_is_nan} curves have a NaN {value!r} at threshold 0, so their trained loss L0 is unknown and "
            "their normalized AUC and max fraction within tolerance are NaN.",
            stacklevel=3,
        )
    if has_nan:
        warnings.warn(f"{has_nan} curves have a NaN {value!r} at some threshold; their AUC is NaN.", stacklevel=3)
    no_chance = metrics["chance_loss"].isna() & metrics["initial_loss"].notna()
    if no_chance.any():
        warnings.warn(
            f"{int(no_chance.sum())} curves have a NaN 'chance_val_loss', so their normalized AUC is NaN.",
            stacklevel=3,
        )
    undefined = metrics["normalized_auc"].isna() & metrics["initial_loss"].notna() & metrics["chance_loss"].notna()
    undefined &= metrics["auc"].notna()
    if undefined.any():
        epochs = sorted(metrics.loc[undefined, "epoch"].unique().tolist())
        warnings.warn(
            f"The normalized AUC is undefined (NaN) for {int(undefined.sum())} curves (epochs {epochs}) whose "
            "chance_val_loss is not above the loss with nothing removed; rank and compare them by metric 'auc' "
            "instead.",
            stacklevel=3,
        )


def _sorted(fraction_removed, values) -> tuple[np.ndarray, np.ndarray]:
    fraction_removed = np.asarray(fraction_removed, dtype=float)
    values = np.asarray(values, dtype=float)
    if fraction_removed.shape != values.shape:
        raise ValueError(f"fraction_removed and values differ in shape: {fraction_removed.shape} vs {values.shape}.")
    order = np.argsort(fraction_removed, kind="stable")
    return fraction_removed[order], values[order]
