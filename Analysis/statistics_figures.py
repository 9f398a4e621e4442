"""Figures of the statistics of a thresholding analysis, returned as ``matplotlib`` figures: the significance
matrices of the pairwise comparisons and the stability of the ranking. A significance panel whose group has too
few trials says so in words; the stability figure draws only the panels that have a value (``stability_panels``),
and the report says in a line of text what the others need.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from Analysis.columns import GROUP_KEYS
from Analysis.comparisons import DEFAULT_ALPHA, significance_matrix
from Analysis.figures import add_legend, panel_grid, set_title
from Analysis.loading import select_results
from Analysis.style import describe, measure_label, new_figure

SETTING_KEYS = ("aggregation_level", "aggregation_method", "scope", "order", "parameters", "replacement")
TEXT = {"ha": "center", "va": "center", "fontsize": 9, "color": "0.35"}


def plot_significance(comparisons: pd.DataFrame, ax=None, *, alpha: float = DEFAULT_ALPHA, title=None,
                      **selection) -> Figure:
    """Matrices of Holm-corrected p-values between measures (``compare_measures``), one panel per group that
    varies (orders across): cell (row, column) is ``±(-log10 p_holm)``, blue when the row measure is
    significantly better than the column measure, red when worse, white when not significant; each cell shows
    p_holm (``*`` below ``alpha``). A group with fewer than two paired trials shows "needs ≥ 2 trials".
    ``selection`` filters as in ``select_results``; with ``ax`` it must leave one group. ``title``: None, a
    text, or True for what all panels share."""
    data = select_results(comparisons, keep_baseline=False, **selection) if selection else comparisons
    num_measures = len(set(data["measure_a"]) | set(data["measure_b"]))
    size = 1.6 + 0.5 * num_measures
    figure, panels, shared = panel_grid(data, GROUP_KEYS, ("order",), ax, width=size + 0.8, height=size,
                                        share=False)
    limit, drawn = 2.0, []
    for panel_ax, group, _ in panels:
        if not np.isfinite(group["p_holm"].to_numpy(float)).any():
            _say(panel_ax, "paired tests need ≥ 2 trials")
            continue
        measures = list(dict.fromkeys([*group["measure_a"], *group["measure_b"]]))
        p_values, outcome = significance_matrix(group, measures)
        p = p_values.to_numpy(dtype=float)
        values = outcome.to_numpy(dtype=float) * -np.log10(np.clip(np.nan_to_num(p, nan=1.0), 1e-300, 1.0))
        limit = max(limit, float(np.max(np.abs(values))))
        drawn.append((panel_ax, values, p, measures))
    image = None
    for panel_ax, values, p, measures in drawn:
        image = panel_ax.imshow(values, cmap="RdBu", vmin=-limit, vmax=limit)
        for i in range(len(measures)):
            for j in range(len(measures)):
                text = "" if i == j else ("n/a" if np.isnan(p[i, j]) else f"{p[i, j]:.2g}"
                                          + ("*" if p[i, j] < alpha else ""))
                dark = abs(values[i, j]) > 0.6 * limit
                panel_ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
        labels = [measure_label(m) for m in measures]
        panel_ax.set_xticks(range(len(measures)), labels, rotation=45, ha="right", fontsize=8)
        panel_ax.set_yticks(range(len(measures)), labels, fontsize=8)
        panel_ax.set_xlabel("compared with", fontsize=8)
    if image is not None:
        figure.colorbar(image, ax=[a for a, *_ in drawn], shrink=0.8,
                        label=f"-log10 p_holm, * below {alpha:g}\nblue: row better, red: row worse")
    set_title(figure, ax, title, shared)
    return figure


def stability_panels(trial_stability: pd.DataFrame, epoch_stability: pd.DataFrame, task: str) -> tuple[bool, bool]:
    """Which panels of ``task``'s stability figure have a value: (across trials: some epoch with Kendall's W
    between >= 2 trials' rankings, across epochs: some setting ranked at >= 2 epochs)."""
    return (bool(trial_stability.loc[trial_stability["task"] == task, "kendalls_w"].notna().any()),
            bool(epoch_stability.loc[epoch_stability["task"] == task, "kendalls_w"].notna().any()))


def plot_stability(trial_stability: pd.DataFrame, epoch_stability: pd.DataFrame, axes=None, *, title=None,
                   task: str | None = None) -> Figure:
    """The stability of the ranking of measures for one task (``task``, or the only one): Kendall's W between
    the trials' rankings against epoch, one line per setting, and between the epochs' rankings, one bar per
    setting, each setting in one colour; the legend names the settings by what differs between them.

    Only the panels with a value are drawn (``stability_panels``): one trial gives no "across trials" panel, one
    measured epoch no "across epochs" panel; a ``ValueError`` says what is needed when neither has a value.
    ``axes``: one axis per panel drawn, to draw into. Returns the figure."""
    tasks = sorted(set(trial_stability["task"]) | set(epoch_stability["task"]))
    task = task if task is not None else (tasks[0] if len(tasks) == 1 else None)
    if task is None or task not in tasks:
        raise ValueError(f"plot_stability draws one task; choose one with task=... from {tasks}.")
    has_trials, has_epochs = stability_panels(trial_stability, epoch_stability, task)
    if not (has_trials or has_epochs):
        raise ValueError(f"The ranking of {task!r} has no stability to draw: agreement across trials needs at least "
                         "2 trials and agreement across epochs at least 2 measured epochs.")
    trials = trial_stability[(trial_stability["task"] == task) & trial_stability["kendalls_w"].notna()]
    epochs = epoch_stability[(epoch_stability["task"] == task) & epoch_stability["kendalls_w"].notna()]
    num_panels = has_trials + has_epochs
    if axes is None:
        figure, grid = new_figure(1, num_panels, width=4.8, height=3.4)
        panels = list(grid[0])
    else:
        panels = list(np.atleast_1d(axes))
        if len(panels) != num_panels:
            raise ValueError(f"plot_stability draws {num_panels} panel(s) for {task!r} (across trials: {has_trials}, "
                             f"across epochs: {has_epochs}); got {len(panels)} axes.")
        figure = panels[0].figure
    settings = pd.concat([trials[list(SETTING_KEYS)], epochs[list(SETTING_KEYS)]]).drop_duplicates()
    varying = [k for k in SETTING_KEYS if settings[k].nunique() > 1] or ["order"]
    names = sorted(set(settings[varying].itertuples(index=False, name=None)), key=str)
    styles = {name: {"color": colormaps["tab10"](i % 10), "marker": "osD^v<>p*h"[i % 10],
                     "label": describe(dict(zip(varying, name)))} for i, name in enumerate(names)}
    remaining = iter(panels)
    if has_trials:
        _across_trials(next(remaining), trials, varying, styles)
    if has_epochs:
        right = next(remaining)
        right.set_xlabel("Kendall's W across epochs")
        for name, rows in epochs.groupby(varying, sort=False):
            name = name if isinstance(name, tuple) else (name,)
            style = styles[name]
            right.barh(names.index(name), rows["kendalls_w"].mean(), color=style["color"], label=style["label"])
        right.set_yticks([])
        right.set_ylim(len(names) - 0.5, -0.5)
        right.set_xlim(0, 1)
    add_legend(figure, panels, inside=axes is not None)
    set_title(figure, None if axes is None else panels[0], title, {"task": task})
    return figure


def _across_trials(ax, trials: pd.DataFrame, varying: list[str], styles: dict) -> None:
    ax.set_xlabel("epoch")
    ax.set_ylabel("Kendall's W across trials")
    for name, rows in trials.groupby(varying, sort=True):
        rows = rows.sort_values("epoch")
        ax.plot(rows["epoch"], rows["kendalls_w"], alpha=0.8, **styles[name if isinstance(name, tuple) else (name,)])
    ax.set_ylim(-0.05, 1.05)
    epochs = sorted(trials["epoch"].unique())
    if len(epochs) <= 12:
        ax.set_xticks(epochs)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _say(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, **TEXT)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("0.85")
