"""Figures of the thresholding analysis, saved as PNG files, and the two helpers every figure of the analysis uses
(``new_figure``, ``save_figure``).

Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg canvas, so no pyplot state or
interactive backend is involved. Each measure keeps one colour in every figure; the baseline ``random`` is black
and dashed, and a control ``shuffled:X`` takes the colour of ``X`` with a dotted line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from Analysis import paths
from Analysis.comparisons import significance_matrix
from Schema import BASELINE_MEASURE, CONTROL_PREFIX

BANDS = ("se", "ci")
MAX_OVERVIEW_EPOCHS = 8
DPI = 100
VALUE_LABELS = {"val_loss": "validation loss", "loss": "training loss", "val_accuracy": "validation accuracy",
                "accuracy": "training accuracy"}


def measure_styles(measures) -> dict[str, dict]:
    """Line style of each measure: one colour per base measure, ``random`` black dashed, ``shuffled:X`` dotted."""
    measures = sorted(set(measures))
    bases = sorted({m[len(CONTROL_PREFIX):] if m.startswith(CONTROL_PREFIX) else m for m in measures}
                   - {BASELINE_MEASURE})
    palette = colormaps["tab10" if len(bases) <= 10 else "tab20"]
    colours = {base: palette(i % palette.N) for i, base in enumerate(bases)}
    styles = {}
    for measure in measures:
        if measure == BASELINE_MEASURE:
            styles[measure] = {"color": "black", "linestyle": "--", "linewidth": 1.8, "zorder": 5}
        elif measure.startswith(CONTROL_PREFIX):
            styles[measure] = {"color": colours[measure[len(CONTROL_PREFIX):]], "linestyle": ":", "linewidth": 1.5,
                               "zorder": 3}
        else:
            styles[measure] = {"color": colours[measure], "linestyle": "-", "linewidth": 1.5, "zorder": 4}
    return styles


def plot_measure_curves(curves: pd.DataFrame, out_dir, band: str = "se", value_label: str = "validation loss",
                        styles: dict | None = None) -> list[Path]:
    """One figure per (task, epoch, aggregation): the curve of every measure (``random`` always drawn, on top),
    with a band of ±1 standard error (``band="se"``) or the 95% t-interval (``"ci"``) across trials. Panels:
    one column per order, one row per (scope, replacement)."""
    styles = styles or measure_styles(curves["measure"].unique())
    written = []
    for (task, epoch, level, method), data in curves.groupby(["task", "epoch", "aggregation_level",
                                                              "aggregation_method"], sort=True):
        def draw(ax, panel):
            measures = sorted(panel["measure"].unique(), key=lambda m: (m == BASELINE_MEASURE, m))
            for measure in measures:
                _line(ax, panel[panel["measure"] == measure], measure, styles[measure], band)
            if BASELINE_MEASURE not in measures:
                ax.text(0.02, 0.02, f"no {BASELINE_MEASURE} baseline", transform=ax.transAxes, fontsize=7)

        title = f"{task}, epoch {epoch}, aggregation {level}/{method} (band: {_band_text(band)})"
        path = paths.curves_figure(out_dir, task, epoch, level, method)
        written.append(_panel_figure(data, draw, title, value_label, path))
    return written


def plot_aggregation_curves(curves: pd.DataFrame, out_dir, band: str = "se",
                            value_label: str = "validation loss") -> list[Path]:
    """One figure per (task, epoch, measure): one line per aggregation (level/method), with bands as above."""
    curves = curves.assign(aggregation=curves["aggregation_level"] + "/" + curves["aggregation_method"])
    aggregations = sorted(curves["aggregation"].unique())
    palette = colormaps["tab10" if len(aggregations) <= 10 else "tab20"]
    styles = {a: {"color": palette(i % palette.N), "linestyle": "-", "linewidth": 1.5, "zorder": 4}
              for i, a in enumerate(aggregations)}
    written = []
    for (task, epoch, measure), data in curves.groupby(["task", "epoch", "measure"], sort=True):
        def draw(ax, panel):
            for aggregation in sorted(panel["aggregation"].unique()):
                _line(ax, panel[panel["aggregation"] == aggregation], aggregation, styles[aggregation], band)

        title = f"{task}, epoch {epoch}, measure {measure}: aggregations (band: {_band_text(band)})"
        written.append(_panel_figure(data, draw, title, value_label, paths.aggregation_figure(out_dir, task, epoch,
                                                                                              measure)))
    return written


def plot_overview(curves: pd.DataFrame, out_dir, band: str = "se", value_label: str = "validation loss",
                  styles: dict | None = None) -> list[Path]:
    """One grid per (task, scope, order, replacement): rows are epochs (at most 8, evenly spread, first and last
    included), columns are aggregations, one line per measure."""
    styles = styles or measure_styles(curves["measure"].unique())
    written = []
    for (task, scope, order, replacement), data in curves.groupby(["task", "scope", "order", "replacement"],
                                                                  sort=True):
        epochs = _spread(sorted(data["epoch"].unique()), MAX_OVERVIEW_EPOCHS)
        aggregations = sorted(set(zip(data["aggregation_level"], data["aggregation_method"])))
        figure, axes = new_figure(len(epochs), len(aggregations), width=3.2, height=2.4, sharex=True, sharey="row")
        for i, epoch in enumerate(epochs):
            for j, (level, method) in enumerate(aggregations):
                ax = axes[i][j]
                panel = data[(data["epoch"] == epoch) & (data["aggregation_level"] == level)
                             & (data["aggregation_method"] == method)]
                for measure in sorted(panel["measure"].unique(), key=lambda m: (m == BASELINE_MEASURE, m)):
                    _line(ax, panel[panel["measure"] == measure], measure, styles[measure], band)
                if i == 0:
                    ax.set_title(f"{level}/{method}", fontsize=9)
                if j == 0:
                    ax.set_ylabel(f"epoch {epoch}\n{value_label}", fontsize=8)
                if i == len(epochs) - 1:
                    ax.set_xlabel("fraction removed", fontsize=8)
                ax.tick_params(labelsize=7)
        _legend(figure, axes)
        figure.suptitle(f"{task}: {order} important removed first, scope {scope}, replacement {replacement}")
        written.append(save_figure(figure, paths.overview_figure(out_dir, task, scope, order, replacement)))
    return written


def plot_significance(comparisons: pd.DataFrame, out_dir, alpha: float = 0.05) -> list[Path]:
    """One figure per (task, epoch, aggregation), one heat map per (scope, replacement) row and order column:
    cell (row, column) is ``±(-log10 p_holm)``, blue when the row measure is significantly better than the column
    measure, red when worse, white when not significant; each cell shows p_holm (``*`` if below ``alpha``)."""
    written = []
    for (task, epoch, level, method), data in comparisons.groupby(["task", "epoch", "aggregation_level",
                                                                   "aggregation_method"], sort=True):
        orders = _orders(data)
        rows = sorted(set(zip(data["scope"], data["replacement"])))
        num_measures = len(set(data["measure_a"]) | set(data["measure_b"]))
        size = 1.4 + 0.5 * num_measures
        figure, axes = new_figure(len(rows), len(orders), width=size + 0.6, height=size)
        limit = 2.0
        panels = []
        for i, (scope, replacement) in enumerate(rows):
            for j, order in enumerate(orders):
                group = data[(data["scope"] == scope) & (data["replacement"] == replacement) & (data["order"] == order)]
                ax = axes[i][j]
                if group.empty:
                    ax.set_axis_off()
                    continue
                measures = list(dict.fromkeys([*group["measure_a"], *group["measure_b"]]))
                p_values, outcome = significance_matrix(group, measures)
                p = p_values.to_numpy(dtype=float)
                strength = -np.log10(np.clip(np.nan_to_num(p, nan=1.0), 1e-300, 1.0))
                values = outcome.to_numpy(dtype=float) * strength
                limit = max(limit, float(np.max(np.abs(values))))
                panels.append((ax, values, p, measures, f"{order} important first, scope {scope}, {replacement}"))
        image = None
        for ax, values, p, measures, title in panels:
            image = ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit)
            for i in range(len(measures)):
                for j in range(len(measures)):
                    text = "" if i == j else ("n/a" if np.isnan(p[i, j]) else f"{p[i, j]:.2g}"
                                              + ("*" if p[i, j] < alpha else ""))
                    dark = abs(values[i, j]) > 0.6 * limit
                    ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
            ax.set_xticks(range(len(measures)), measures, rotation=45, ha="right", fontsize=8)
            ax.set_yticks(range(len(measures)), measures, fontsize=8)
            ax.set_xlabel("compared with", fontsize=8)
            ax.set_title(title, fontsize=9)
        if image is None:
            continue
        figure.colorbar(image, ax=axes, shrink=0.8, label="-log10 p_holm (blue: row better, red: row worse)")
        figure.suptitle(f"{task}, epoch {epoch}, aggregation {level}/{method}: {data['test'].iloc[0]} test on "
                        f"{data['metric'].iloc[0]}, Holm-corrected, * p_holm < {alpha:g}", fontsize=10)
        written.append(save_figure(figure, paths.significance_figure(out_dir, task, epoch, level, method)))
    return written


def plot_stability(trial_stability: pd.DataFrame, epoch_stability: pd.DataFrame, out_dir) -> list[Path]:
    """One figure per task: Kendall's W between trials' rankings against epoch, one line per setting
    (aggregation, scope, order, replacement), and Kendall's W between epochs' rankings for each setting."""
    written = []
    settings_keys = ["aggregation_level", "aggregation_method", "scope", "order", "replacement"]
    for task, data in trial_stability.groupby("task", sort=True):
        figure, axes = new_figure(1, 2, width=4.8, height=3.4)
        left, right = axes[0]
        markers = "osD^v<>p*h"
        for index, (setting, rows) in enumerate(data.groupby(settings_keys, sort=True)):
            rows = rows.sort_values("epoch")
            left.plot(rows["epoch"], rows["kendalls_w"], marker=markers[index % len(markers)], alpha=0.8,
                      label=_setting_label(setting))
        left.set_ylim(-0.05, 1.05)
        epochs = sorted(data["epoch"].unique())
        if len(epochs) <= 12:
            left.set_xticks(epochs)
        else:
            left.xaxis.set_major_locator(MaxNLocator(integer=True))
        left.set_xlabel("epoch")
        left.set_ylabel("Kendall's W across trials")
        left.set_title("agreement between trials", fontsize=9)
        left.legend(fontsize=7)
        across = epoch_stability[epoch_stability["task"] == task]
        across = across[across["kendalls_w"].notna()]
        if across.empty:
            right.text(0.5, 0.5, "fewer than two epochs\nwith comparable rankings", ha="center", va="center",
                       transform=right.transAxes)
            right.set_axis_off()
        else:
            labels = [_setting_label(tuple(row)) for row in across[settings_keys].itertuples(index=False)]
            right.barh(range(len(across)), across["kendalls_w"], color="tab:gray")
            right.set_yticks(range(len(across)), labels, fontsize=7)
            right.set_xlim(0, 1)
            right.set_xlabel("Kendall's W across epochs")
            right.set_title("agreement between epochs", fontsize=9)
        figure.suptitle(f"{task}: stability of the ranking of measures")
        written.append(save_figure(figure, paths.stability_figure(out_dir, task)))
    return written


def _setting_label(setting: tuple) -> str:
    level, method, scope, order, replacement = setting
    return f"{level}/{method}, {scope}, {order}, {replacement}"


def _line(ax, data: pd.DataFrame, label: str, style: dict, band: str) -> None:
    if band not in BANDS:
        raise ValueError(f"Unknown band {band!r}; valid bands are {list(BANDS)}.")
    data = data.sort_values(["fraction_removed", "threshold"])
    x, y = data["fraction_removed"].to_numpy(), data["mean"].to_numpy()
    ax.plot(x, y, label=label, **style)
    if band == "se":
        low, high = y - data["standard_error"].to_numpy(), y + data["standard_error"].to_numpy()
    else:
        low, high = data["ci_low"].to_numpy(), data["ci_high"].to_numpy()
    if np.isfinite(low).any():
        ax.fill_between(x, low, high, color=style["color"], alpha=0.15, linewidth=0, zorder=style["zorder"] - 1)


def _panel_figure(data: pd.DataFrame, draw, title: str, value_label: str, path: Path) -> Path:
    orders = _orders(data)
    rows = sorted(set(zip(data["scope"], data["replacement"])))
    figure, axes = new_figure(len(rows), len(orders), width=4.2, height=3.2)
    for i, (scope, replacement) in enumerate(rows):
        for j, order in enumerate(orders):
            ax = axes[i][j]
            panel = data[(data["scope"] == scope) & (data["replacement"] == replacement) & (data["order"] == order)]
            draw(ax, panel)
            ax.set_title(f"{order} important first, scope {scope}, {replacement}", fontsize=9)
            ax.set_xlabel("fraction of weights removed")
            ax.set_ylabel(value_label)
    _legend(figure, axes)
    figure.suptitle(title, fontsize=10)
    return save_figure(figure, path)


def _orders(data: pd.DataFrame) -> list[str]:
    present = set(data["order"])
    return [o for o in ("least", "most") if o in present] + sorted(present - {"least", "most"})


def new_figure(rows: int, columns: int, width: float, height: float, margin: tuple[float, float] = (1.8, 0.6),
               **options):
    """A figure of ``rows x columns`` panels of ``width x height`` inches each, plus ``margin`` (inches across,
    down) for the legend and titles, with constrained layout; returns it and its 2-D array of axes."""
    figure = Figure(figsize=(width * columns + margin[0], height * rows + margin[1]), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, **options)
    return figure, axes


def _legend(figure: Figure, axes) -> None:
    handles = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        figure.legend(list(handles.values()), list(handles), loc="outside right center", fontsize=8)


def save_figure(figure: Figure, path) -> Path:
    """Render ``figure`` with the Agg canvas into the PNG file ``path`` (its folder made if needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=DPI)
    return path


def _spread(values: list, limit: int) -> list:
    if len(values) <= limit:
        return list(values)
    indices = np.unique(np.round(np.linspace(0, len(values) - 1, limit)).astype(int))
    return [values[i] for i in indices]


def _band_text(band: str) -> str:
    return "±1 standard error across trials" if band == "se" else "t-interval of the mean across trials"
