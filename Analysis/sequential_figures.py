"""Figures of the sequential-learning analysis, saved with the helpers of ``style`` in each format asked for.

Each measure has the colour it has in every figure of the analysis (``style.measure_colour``); ``none`` (plain
fine-tuning) is a grey dashed line.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from Analysis import paths
from Analysis.style import DPI, measure_colour, new_figure, save_figure
from Schema import NO_PENALTY


def plot_accuracy_matrices(matrices: dict[tuple, np.ndarray], out_dir, formats=("png",),
                           dpi: float = DPI) -> list[Path]:
    """One heat map per (task, sequence): a panel per measure with its mean accuracy matrix at its best λ."""
    written = []
    groups: dict[tuple, list] = {}
    for (task, sequence, measure, value), matrix in matrices.items():
        groups.setdefault((task, sequence), []).append((measure, value, matrix))
    for (task, sequence), panels in sorted(groups.items()):
        columns = min(len(panels), 4)
        rows = math.ceil(len(panels) / columns)
        figure, axes = new_figure(rows, columns, width=3.2, height=3.0, margin=(0.8, 0.0))
        axes = axes.ravel()
        image = None
        for ax, (measure, value, matrix) in zip(axes, panels):
            image = ax.imshow(np.ma.masked_invalid(matrix), vmin=0.0, vmax=1.0, cmap="viridis")
            for (i, j), accuracy in np.ndenumerate(matrix):
                if np.isfinite(accuracy):
                    ax.text(j, i, f"{accuracy:.2f}", ha="center", va="center", fontsize=8,
                            color="white" if accuracy < 0.6 else "black")
            ax.set_title(f"{measure} (λ={value:g})", fontsize=9)
            ax.set_xlabel("evaluated task")
            ax.set_ylabel("after training task")
            ax.set_xticks(range(len(matrix)))
            ax.set_yticks(range(len(matrix)))
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        if image is not None:
            figure.colorbar(image, ax=list(axes[:len(panels)]), shrink=0.8, label="accuracy")
        figure.suptitle(f"{task}, {sequence}: mean accuracy matrix at the best λ")
        written += save_figure(figure, paths.accuracy_matrices_figure(out_dir, task, sequence), formats, dpi)
    return written


def plot_forgetting(summary: pd.DataFrame, out_dir, confidence: float = 0.95, formats=("png",),
                    dpi: float = DPI) -> list[Path]:
    """Forgetting per measure at its best λ with its confidence interval, one figure per (task, sequence)."""
    written = []
    for (task, sequence), group in summary.groupby(["task", "sequence"], sort=True):
        group = group.sort_values("forgetting_mean", kind="stable")
        mean = group["forgetting_mean"].to_numpy(float)
        low = np.where(np.isnan(group["forgetting_ci_low"]), mean, group["forgetting_ci_low"])
        high = np.where(np.isnan(group["forgetting_ci_high"]), mean, group["forgetting_ci_high"])
        figure, axes = new_figure(1, 1, width=0.9 * len(group), height=3.6, margin=(1.0, 0.0))
        ax = axes[0][0]
        ax.bar(range(len(group)), mean, yerr=[mean - low, high - mean], color=_colours(group["measure"]), capsize=4)
        ax.set_xticks(range(len(group)))
        ax.set_xticklabels([f"{m}\nλ={v:g}" for m, v in zip(group["measure"], group["lambda"])], fontsize=8)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_ylabel("forgetting")
        ax.set_title(f"{task}, {sequence}: forgetting at the best λ ({100 * confidence:g}% CI over trials)",
                     fontsize=9)
        written += save_figure(figure, paths.forgetting_figure(out_dir, task, sequence), formats, dpi)
    return written


def plot_lambda_sweep(sweep: pd.DataFrame, out_dir, formats=("png",), dpi: float = DPI) -> list[Path]:
    """Average accuracy and forgetting against λ, one line per measure, one figure per (task, sequence)."""
    written = []
    for (task, sequence), group in sweep.groupby(["task", "sequence"], sort=True):
        figure, axes = new_figure(1, 2, width=4.5, height=3.6, margin=(0.0, 0.0))
        axes = axes[0]
        measures = sorted(group["measure"].unique())
        for measure, colour in zip(measures, _colours(measures)):
            line = group[group["measure"] == measure].sort_values("lambda")
            for ax, name in zip(axes, ("average_accuracy", "forgetting")):
                x = line["lambda"].to_numpy(float)
                y = line[f"{name}_mean"].to_numpy(float)
                if measure == NO_PENALTY:
                    ax.axhline(y[0], color=colour, linestyle="--", label=measure)
                else:
                    ax.plot(x, y, marker="o", color=colour, label=measure)
        for ax, name in zip(axes, ("average accuracy after the last task", "forgetting")):
            ax.set_xscale("symlog", linthresh=max(float(group.loc[group["lambda"] > 0, "lambda"].min()), 1e-6)
                          if (group["lambda"] > 0).any() else 1.0)
            ax.set_xlabel("λ")
            ax.set_ylabel(name)
        axes[1].legend(fontsize=8)
        figure.suptitle(f"{task}, {sequence}: λ sweep (means over trials)")
        written += save_figure(figure, paths.lambda_sweep_figure(out_dir, task, sequence), formats, dpi)
    return written


def _colours(measures) -> list:
    return [measure_colour(m) for m in measures]
