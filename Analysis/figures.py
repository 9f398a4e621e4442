"""Figures of thresholding curves, returned as ``matplotlib`` figures: ``plot_curves`` draws the mean curves of any
selection of results, into a given ``ax`` or into a new figure with one panel per group, in the style of
``Analysis.style`` (one colour per measure everywhere, markers at the measured points, the chance level, a band
across trials where there are at least two). ``panel_grid`` lays out the panels of every figure of the analysis.
"""

from __future__ import annotations

import os
import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from Analysis.columns import CURVE_KEYS
from Analysis.curves import compute_curves
from Analysis.loading import load_results, select_results
from Analysis.style import (
    CHANCE_STYLE,
    VALUE_LABELS,
    aggregation_label,
    describe,
    measure_label,
    measure_sort_key,
    measure_style,
    new_figure,
)
from Schema import BASELINE_MEASURE

BANDS = ("se", "ci")
# What one line of a curve figure is: a measure, or an aggregation (level and method) of one measure.
LINE_KEYS = {"measure": ("measure",), "aggregation": ("aggregation_level", "aggregation_method")}
ORDER_FIRST = {"least": 0, "most": 1}


def plot_curves(data, ax=None, *, lines: str = "measure", columns=("order",), band: str = "se",
                value: str = "val_loss", chance: bool = True, legend: bool = True, title=None,
                confidence: float = 0.95, **selection) -> Figure:
    """Mean curves of ``value`` against the fraction removed, one line per measure (``lines="measure"``) or per
    aggregation (``"aggregation"``), with markers at the measured points, a band across trials (``band="se"``:
    ±1 standard error, ``"ci"``: the ``confidence`` t-interval; none, and "1 trial: no band" in the legend, with
    one trial) and the chance level (mean ``chance_val_loss``; ``chance=False`` leaves it out).

    ``data``: results (``load_results``), curves (``compute_curves``), or the path(s) of results CSVs.
    ``selection``: filters as in ``select_results`` (``epoch=3``, ``order="least"``, ...; ``epoch="last"`` is
    the last epoch present). Every curve key that still varies makes panels: the keys in ``columns`` across,
    the others down. With ``ax`` the selection must be one panel, drawn there. ``title``: None (no title), a
    text, or True for one naming what all panels share. Returns the figure.
    """
    if band not in BANDS:
        raise ValueError(f"Unknown band {band!r}; valid bands are {list(BANDS)}.")
    if lines not in LINE_KEYS:
        raise ValueError(f"Unknown lines {lines!r}; valid: {list(LINE_KEYS)}.")
    curves = as_curves(data, value, confidence, selection)
    line_keys = LINE_KEYS[lines]
    panel_keys = [k for k in CURVE_KEYS if k not in line_keys]
    figure, panels, shared = panel_grid(curves, panel_keys, columns, ax, width=4.2, height=3.2)
    styles = _line_styles(curves, lines)
    for panel_ax, panel, _ in panels:
        _draw_panel(panel_ax, panel, line_keys, styles, band, value, chance)
        if ax is None:
            panel_ax.label_outer()
    band_title = band_text(curves, band, curves.attrs.get("confidence", confidence))
    if lines == "aggregation" and curves["measure"].nunique() == 1:  # name the one measure the figure is about
        band_title = f"{measure_label(curves['measure'].iloc[0])}; {band_title}"
    if legend:
        add_legend(figure, [a for a, _, _ in panels], band_title, inside=ax is not None)
    set_title(figure, ax, title, shared)
    return figure


def set_title(figure: Figure, ax, title, shared: dict) -> None:
    """No title for ``title=None``; else ``title``, or for ``True`` what ``shared`` names, on ``ax`` if given,
    else on the figure."""
    if title is None:
        return
    text = describe(shared) if title is True else str(title)
    if ax is not None:
        ax.set_title(text, fontsize=9)
    else:
        figure.suptitle(text, fontsize=10)


def as_curves(data, value: str = "val_loss", confidence: float = 0.95, selection: dict | None = None) -> pd.DataFrame:
    """Curves from ``data`` (results, curves or results CSV paths), filtered by ``selection``."""
    if isinstance(data, (str, os.PathLike, list, tuple)):
        data = load_results(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"Give results or curves as a DataFrame, or results CSV paths; got {type(data).__name__}.")
    selection = {k: v for k, v in (selection or {}).items() if v is not None}
    if selection.get("epoch") == "last":
        selection["epoch"] = int(data["epoch"].max())
    if selection:
        data = select_results(data, **selection)
    return data if "mean" in data.columns else compute_curves(data, value=value, confidence=confidence)


def panel_grid(data: pd.DataFrame, keys, columns=("order",), ax=None, width: float = 4.2, height: float = 3.2,
               share: bool = True):
    """Panels for the values of ``keys`` that vary in ``data``: those in ``columns`` across, the others down
    (``share``: one x axis per column and one y axis per row, labelled on the outer panels only).

    Returns the figure, a list of ``(ax, rows of data, context)`` per panel that holds data (context: the
    varying keys' values) and the dict of the keys that do not vary. With ``ax`` there must be one panel.
    """
    keys = [k for k in keys if k in data.columns]
    varying = [k for k in keys if data[k].nunique(dropna=False) > 1]
    shared = {k: data[k].iloc[0] for k in keys if k not in varying}
    column_keys = [k for k in columns if k in varying]
    row_keys = [k for k in varying if k not in column_keys]
    if ax is not None:
        if varying:
            choices = {k: sorted(map(str, data[k].unique())) for k in varying}
            raise ValueError(f"One ax takes one panel, but these keys vary: {choices}; select one value of each "
                             "(e.g. order='least') or leave ax out for a figure with one panel per value.")
        return ax.figure, [(ax, data, {})], shared
    row_values, column_values = _combinations(data, row_keys), _combinations(data, column_keys)
    sharing = {"sharex": True, "sharey": "row"} if share else {}
    figure, axes = new_figure(len(row_values), len(column_values), width=width, height=height, **sharing)
    panels = []
    for i, row in enumerate(row_values):
        for j, column in enumerate(column_values):
            context = {**dict(zip(row_keys, row)), **dict(zip(column_keys, column))}
            mask = np.ones(len(data), dtype=bool)
            for key, wanted in context.items():
                mask &= (data[key] == wanted).to_numpy()
            if not mask.any():
                axes[i][j].set_axis_off()
                continue
            header = [describe(dict(zip(keys_, values))) for keys_, values in ((row_keys, row), (column_keys, column))]
            axes[i][j].set_title("\n".join(textwrap.fill(h, 60) for h in header if h), fontsize=9)
            panels.append((axes[i][j], data.loc[mask], context))
    return figure, panels, shared


def band_text(curves: pd.DataFrame, band: str, confidence: float = 0.95) -> str:
    """What the bands of ``curves`` show, with the number of trials; "1 trial: no band" where there is one."""
    trials = curves.groupby([k for k in CURVE_KEYS if k in curves.columns], dropna=False)["num_trials"].max()
    low, high = int(trials.min()), int(trials.max())
    if high <= 1:
        return "1 trial: no band"
    count = f"{high} trials" if low == high else f"{max(low, 1)}-{high} trials" + (", no band at 1" if low <= 1 else "")
    kind = "±1 standard error" if band == "se" else f"{100 * confidence:g}% t-interval"
    return f"band: {kind} ({count})"


def add_legend(figure: Figure, axes, title: str | None = None, inside: bool = False) -> None:
    """One legend for every line label of ``axes`` (outside on the right, or in the single ``axes`` given)."""
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if not handles:
        return
    options = {"fontsize": 8, "title": title, "title_fontsize": 8, "alignment": "left"}
    if inside:
        axes[0].legend(list(handles.values()), list(handles), **options)
    else:
        figure.legend(list(handles.values()), list(handles), loc="outside right center", **options)


def _draw_panel(ax, panel: pd.DataFrame, line_keys, styles: dict, band: str, value: str, chance: bool) -> None:
    groups = dict(list(panel.groupby(list(line_keys), sort=False)))
    names = sorted(groups, key=lambda k: measure_sort_key(k[0]) if line_keys == ("measure",) else k)
    for name in names:
        line = groups[name].sort_values(["fraction_removed", "threshold"])
        style = styles[name]
        x, y = line["fraction_removed"].to_numpy(float), line["mean"].to_numpy(float)
        ax.plot(x, y, label=style["label"], **{k: v for k, v in style.items() if k != "label"})
        if band == "se":
            low, high = y - line["standard_error"].to_numpy(float), y + line["standard_error"].to_numpy(float)
        else:
            low, high = line["ci_low"].to_numpy(float), line["ci_high"].to_numpy(float)
        if np.isfinite(low).any():
            ax.fill_between(x, low, high, color=style["color"], alpha=0.15, linewidth=0, zorder=style["zorder"] - 1)
    level = panel["chance_loss"].mean() if "chance_loss" in panel else np.nan
    if chance and value == "val_loss" and np.isfinite(level):
        ax.axhline(level, label="chance level", **CHANCE_STYLE)
    if line_keys == ("measure",) and BASELINE_MEASURE not in set(panel["measure"]):
        ax.text(0.02, 0.02, f"no {BASELINE_MEASURE} baseline", transform=ax.transAxes, fontsize=7)
    ax.set_xlabel("fraction removed")
    ax.set_ylabel(VALUE_LABELS.get(value, value))


def _line_styles(curves: pd.DataFrame, lines: str) -> dict:
    if lines == "measure":
        return {(m,): {**measure_style(m), "label": measure_label(m)} for m in curves["measure"].unique()}
    aggregations = sorted(set(zip(curves["aggregation_level"], curves["aggregation_method"])))
    palette = colormaps["tab10"]
    return {a: {"color": palette(i % 10), "linestyle": "-", "linewidth": 1.5, "marker": "o", "markersize": 3.5,
                "zorder": 4, "label": aggregation_label(*a)} for i, a in enumerate(aggregations)}


def _combinations(data: pd.DataFrame, keys: list[str]) -> list[tuple]:
    if not keys:
        return [()]
    values = data[keys].drop_duplicates().itertuples(index=False, name=None)
    return sorted(values, key=lambda row: tuple((ORDER_FIRST.get(v, 2), str(v)) if k == "order" else
                                                (0, v) if isinstance(v, (int, np.integer)) else (1, str(v))
                                                for k, v in zip(keys, row)))
