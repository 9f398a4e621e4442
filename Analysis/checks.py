"""Checks of one thresholding results file as it is read, each a warning that names what it found.

- **Incomplete curves.** On a linear or a geometric grid (``threshold_spacing`` in the configuration JSON beside
  the CSV) every curve of a file is measured at the same thresholds, so a curve that lacks some of the thresholds
  the file's other curves have (a run cut short, rows lost) would have its AUC computed over a shorter or coarser
  range without a word. An adaptive grid chooses its thresholds per curve, so its curves legitimately differ and
  are not checked; without a JSON the grid is taken to be linear.
- **Missing values.** A NaN in a column the analysis computes with (``threshold``, ``fraction_removed``,
  ``val_loss``, ``chance_val_loss``) is named with its column and its first row.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from Analysis.columns import CURVE_KEYS
from Schema import KEY_DIGITS

# Spacings whose curves are all measured at the same thresholds (``adaptive`` chooses them per curve).
EVEN_SPACINGS = ("linear", "geometric")
CHECKED_COLUMNS = ("threshold", "fraction_removed", "val_loss", "chance_val_loss")
MAX_LISTED = 5


def check_thresholding_file(frame: pd.DataFrame, path, config: dict | None) -> None:
    """Warn about incomplete curves and NaN values of one results file (module docstring)."""
    check_missing_values(frame, path)
    spacing = (config or {}).get("threshold_spacing", "linear")
    if spacing in EVEN_SPACINGS:
        check_complete_curves(frame, path, spacing)


def check_complete_curves(frame: pd.DataFrame, path, spacing: str = "linear") -> list[tuple]:
    """Warn, naming each curve (trial and ``CURVE_KEYS``), when a curve lacks thresholds that other curves of the
    file have; returns the incomplete curves as (curve keys, missing thresholds)."""
    keys = ["trial", *[k for k in CURVE_KEYS if k in frame.columns]]
    thresholds = frame["threshold"].round(KEY_DIGITS)
    expected = set(thresholds.dropna())
    incomplete = []
    for curve, measured in thresholds.groupby([frame[k] for k in keys], sort=True, dropna=False):
        missing = sorted(expected - set(measured.dropna()))
        if missing:
            incomplete.append((curve, missing))
    if incomplete:
        listed = "; ".join(f"{describe_row(dict(zip(keys, curve)))} lacks thresholds {_numbers(missing)}"
                           for curve, missing in incomplete[:MAX_LISTED])
        more = f"; and {len(incomplete) - MAX_LISTED} more" if len(incomplete) > MAX_LISTED else ""
        warnings.warn(
            f"{len(incomplete)} curves of {path} lack thresholds that other curves of the same {spacing} grid have "
            f"(their AUC and tolerance fraction cover fewer points): {listed}{more}. Resume the run to complete "
            "them, or select the complete ones.",
            stacklevel=4,
        )
    return incomplete


def check_missing_values(frame: pd.DataFrame, path) -> list[str]:
    """Warn once per column of ``CHECKED_COLUMNS`` that holds a NaN, naming the column and its first such row;
    returns those columns."""
    found = []
    for column in CHECKED_COLUMNS:
        if column not in frame.columns:
            continue
        missing = frame[column].isna().to_numpy()
        if not missing.any():
            continue
        found.append(column)
        first = frame.loc[missing].iloc[0]
        row = {k: first[k] for k in ("trial", *CURVE_KEYS, "threshold") if k in frame.columns and k != column}
        warnings.warn(
            f"Column {column!r} of {path} holds NaN in {int(missing.sum())} rows (first: {describe_row(row)}); "
            f"{_consequence(column)}",
            stacklevel=4,
        )
    return found


def describe_row(row: dict) -> str:
    """``trial 0, epoch 2, measure fisher, weight/none, scope layer, order least, ...`` from the keys present."""
    parts = []
    for key, value in row.items():
        if key == "aggregation_method":
            continue
        if key == "aggregation_level":
            parts.append(f"{value}/{row.get('aggregation_method', '?')}")
        elif key == "threshold":
            parts.append(f"threshold {_numbers([value])}")
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def _consequence(column: str) -> str:
    if column == "chance_val_loss":
        return "the normalized AUC of those curves is NaN."
    if column in ("threshold", "fraction_removed"):
        return "those rows cannot be placed on their curves; their curves' metrics are NaN or shifted."
    return ("a NaN loss makes the AUC of its curve NaN and counts as exceeding the tolerance; at threshold 0 it "
            "leaves the trained loss L0 unknown.")


def _numbers(values) -> str:
    return "[" + ", ".join("nan" if pd.isna(v) else f"{float(v):g}" for v in np.ravel(values)) + "]"
