"""Figures of the importance atlas, returned as ``matplotlib`` figures in the style of ``Analysis.style`` (one
colour per measure wherever a line stands for a measure).

- ``plot_agreement``: rank correlations between measures, over all weights (Spearman below the diagonal, Kendall
  above) and per tensor (Spearman, one row per pair of measures), means over trials.
- ``plot_overlap``: Jaccard overlap of the sets two measures remove, against the fraction removed in every layer,
  one panel per measure and order, the other measures as lines; the overlap of independent random sets dashed.
- ``plot_allocation``: per measure, the fraction of each tensor a model-scope ranking removes against the
  overall fraction; the diagonal is the layer-scope allocation (every layer loses the same fraction).
- ``plot_distributions``: per measure, box plots of the importances of each tensor (log scale where positive).
- ``plot_first_layer``: per-pixel importance of a Dense first layer, or each convolution filter with the
  importance of its weights beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from Analysis.atlas_loading import ImportanceSet
from Analysis.atlas_maps import FirstLayerMaps
from Analysis.style import ORDER_LABELS, measure_colour, measure_label, measure_sort_key, measure_style, new_figure
from Schema import BASELINE_MEASURE

KIND_STYLES = {"kernel": "-", "bias": "--", "gamma": ":", "beta": "-."}
CORRELATION = {"cmap": "RdBu_r", "vmin": -1.0, "vmax": 1.0}


def _measures(names) -> list[str]:
    return sorted(set(names), key=measure_sort_key)


def _trials_text(data: pd.DataFrame) -> str:
    count = data["trial"].nunique() if "trial" in data.columns else 1
    return f"mean over {count} trials" if count > 1 else "1 trial"


def plot_agreement(agreement: pd.DataFrame, context: str = "") -> Figure:
    """Rank correlations between the measures of one run and epoch (``atlas_metrics.agreement_table``)."""
    measures = _measures([*agreement["measure_a"], *agreement["measure_b"]])
    means = agreement.groupby(["measure_a", "measure_b", "tensor"], sort=False)[["spearman", "kendall"]].mean()
    n = len(measures)
    tensors = [t for t in dict.fromkeys(agreement["tensor"]) if t != "all"]
    pairs = [(a, b) for i, a in enumerate(measures) for b in measures[i + 1:]]
    width_left, width_right = 0.75 * n + 1.2, 0.42 * len(tensors) + 2.4
    figure = Figure(figsize=(width_left + width_right + 1.2, max(0.75 * n + 1.8, 0.32 * len(pairs) + 2.6)),
                    layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[width_left, width_right])

    def value(a, b, tensor, column):
        key = (a, b, tensor) if (a, b, tensor) in means.index else (b, a, tensor)
        return float(means.loc[key, column]) if key in means.index else np.nan

    matrix = np.full((n, n), np.nan)
    for i, a in enumerate(measures):
        for j, b in enumerate(measures):
            if i != j:
                matrix[i, j] = value(a, b, "all", "spearman" if i > j else "kendall")
    image = left.imshow(matrix, **CORRELATION)
    for i in range(n):
        for j in range(n):
            text = "" if i == j else ("n/a" if np.isnan(matrix[i, j]) else f"{matrix[i, j]:.2f}")
            left.text(j, i, text, ha="center", va="center", fontsize=8,
                      color="white" if abs(np.nan_to_num(matrix[i, j])) > 0.6 else "black")
    labels = [measure_label(m) for m in measures]
    left.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=8)
    left.set_yticks(range(n), labels, fontsize=8)
    left.set_title("all weights:\nSpearman ρ below the diagonal, Kendall τ above", fontsize=9)
    per_tensor = np.array([[value(a, b, t, "spearman") for t in tensors] for a, b in pairs]).reshape(len(pairs), -1)
    right.imshow(per_tensor, aspect="auto", **CORRELATION)
    if per_tensor.size and per_tensor.size <= 400:
        for (i, j), v in np.ndenumerate(per_tensor):
            right.text(j, i, "n/a" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=6,
                       color="white" if abs(np.nan_to_num(v)) > 0.6 else "black")
    right.set_xticks(range(len(tensors)), tensors, rotation=90, fontsize=7)
    right.set_yticks(range(len(pairs)), [f"{measure_label(a)} – {measure_label(b)}" for a, b in pairs], fontsize=8)
    right.set_title("Spearman ρ within each tensor", fontsize=9)
    right.set_xlabel("tensor (layer/kind)")
    figure.colorbar(image, ax=[left, right], shrink=0.8, label="rank correlation\n(−1 reversed, 0 unrelated, 1 same)")
    figure.suptitle(f"Do the measures rank the same weights first? {context} ({_trials_text(agreement)})",
                    fontsize=10)
    return figure


def plot_overlap(overlap: pd.DataFrame, context: str = "") -> Figure:
    """Jaccard overlap of the removal sets (``atlas_metrics.overlap_table``): orders down, measures across."""
    measures = _measures([*overlap["measure_a"], *overlap["measure_b"]])
    # random's own panel would repeat the chance line; its overlap with each measure is drawn in theirs.
    references = [m for m in measures if m != BASELINE_MEASURE] or measures
    orders = [o for o in ORDER_LABELS if o in set(overlap["order"])]
    data = overlap[overlap["threshold"] > 0]
    figure, axes = new_figure(len(orders), len(references), 2.6, 2.3, margin=(2.0, 0.9), sharex=True, sharey=True)
    for row, order in enumerate(orders):
        rows = data[data["order"] == order]
        chance = rows.groupby("threshold")["independent_jaccard"].mean()
        for column, measure in enumerate(references):
            ax = axes[row][column]
            for other in measures:
                if other == measure:
                    continue
                pair = rows[((rows["measure_a"] == measure) & (rows["measure_b"] == other))
                            | ((rows["measure_a"] == other) & (rows["measure_b"] == measure))]
                curve = pair.groupby("threshold")["jaccard"].agg(["mean", "sem"]).reset_index()
                style = measure_style(other)
                ax.plot(curve["threshold"], curve["mean"], label=measure_label(other), **style)
                if pair["trial"].nunique() > 1:
                    ax.fill_between(curve["threshold"], curve["mean"] - curve["sem"], curve["mean"] + curve["sem"],
                                    color=style["color"], alpha=0.15, linewidth=0)
            ax.plot(chance.index, chance.to_numpy(), color="0.3", linestyle=":", linewidth=1.6, zorder=5,
                    label="two independent random sets\nof the same sizes")
            ax.set_ylim(0, 1.02)
            ax.set_title(f"overlap with {measure_label(measure)}\n{ORDER_LABELS[order]}", fontsize=8)
            ax.set_xlabel("fraction removed in every layer")
            ax.set_ylabel("Jaccard |A∩B| / |A∪B|")
            ax.label_outer()
    _legend(figure, axes, "other measure", order=[measure_label(m) for m in measures])
    figure.suptitle(f"How much of the removed weights two measures share (weight level, layer scope); {context}, "
                    f"{_trials_text(overlap)}", fontsize=10)
    return figure


def plot_allocation(allocation: pd.DataFrame, context: str = "") -> Figure:
    """Fraction of each tensor removed by a model-scope ranking (``atlas_metrics.allocation_table``)."""
    measures = _measures(allocation["measure"])
    orders = [o for o in ORDER_LABELS if o in set(allocation["order"])]
    tensors = list(dict.fromkeys(allocation["tensor"]))
    sizes = allocation.groupby("tensor")["num_weights"].first()
    kinds = allocation.groupby("tensor")["kind"].first()
    layers = list(dict.fromkeys(allocation.groupby("tensor", sort=False)["layer"].first()))
    layer_of = allocation.groupby("tensor")["layer"].first()
    palette = colormaps["viridis"]
    colours = {t: palette(layers.index(layer_of[t]) / max(len(layers) - 1, 1) * 0.9) for t in tensors}
    below = len(tensors) > 12  # a long legend goes under the panels, in columns
    legend_rows = -(-(len(tensors) + 1) // 4)
    figure, axes = new_figure(len(orders), len(measures), 2.6, 2.5, sharex=True, sharey=True,
                              margin=(0.6, 1.0 + 0.16 * legend_rows) if below else (2.6, 0.9))
    for row, order in enumerate(orders):
        for column, measure in enumerate(measures):
            ax = axes[row][column]
            rows = allocation[(allocation["measure"] == measure) & (allocation["order"] == order)]
            means = rows.groupby(["tensor", "threshold"], sort=False)[["overall_fraction", "fraction_removed"]].mean()
            for tensor in tensors:
                if tensor not in means.index.get_level_values(0):
                    continue
                curve = means.loc[tensor].sort_values("overall_fraction")
                ax.plot(curve["overall_fraction"], curve["fraction_removed"], color=colours[tensor],
                        linestyle=KIND_STYLES.get(kinds[tensor], "-"), linewidth=1.4,
                        label=f"{tensor} ({sizes[tensor]:,})")
            ax.plot([0, 1], [0, 1], color="black", linestyle=(0, (4, 3)), linewidth=0.9,
                    label="layer scope: every layer loses f")
            ax.set_xlim(0, 1)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{measure_label(measure)}\n{ORDER_LABELS[order]}", fontsize=8,
                         color=measure_colour(measure) if measure != "random" else "black")
            ax.set_xlabel("fraction removed from the model")
            ax.set_ylabel("fraction of the tensor removed")
            ax.label_outer()
    _legend(figure, axes, "tensor (number of weights)", columns=4 if below else 1)
    figure.suptitle(f"Which tensors a ranking across the whole model empties first\n(colour: layer, from the input "
                    f"in dark to the output in light; line: kind);\n{context}, "
                    f"{_trials_text(allocation)}", fontsize=10)
    return figure


def plot_distributions(sets: list[ImportanceSet], context: str = "") -> Figure:
    """Per measure (rows), box plots of each tensor's importances, all trials pooled; log scale where the
    measure's importances are positive, symmetric log where some are negative."""
    measures = _measures(s.measure for s in sets)
    tensors = sets[0].tensors
    labels = [t.label for t in tensors]
    num_trials = len({s.trial for s in sets})
    figure, axes = new_figure(len(measures), 1, max(6.0, 0.42 * len(tensors) + 2.0), 1.75, margin=(0.6, 1.6),
                              sharex=True)
    for row, measure in enumerate(measures):
        ax = axes[row][0]
        chosen = [s for s in sets if s.measure == measure]
        values = [np.concatenate([s.arrays[i].ravel() for s in chosen]) for i in range(len(tensors))]
        everything = np.concatenate(values)
        zero = [float(np.mean(v == 0)) for v in values]
        if everything.min() < 0:
            nonzero = np.abs(everything[everything != 0])
            ax.set_yscale("symlog", linthresh=float(np.quantile(nonzero, 0.05)) if nonzero.size else 1.0)
            scale, shown = "symmetric log", values
        elif everything.max() > 0:
            ax.set_yscale("log")
            scale, shown = "log", [v[v > 0] if (v > 0).any() else np.array([np.nan]) for v in values]
        else:
            scale, shown = "linear", values
        boxes = ax.boxplot(shown, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6,
                           medianprops={"color": "black", "linewidth": 1.0})
        for box in boxes["boxes"]:
            box.set(facecolor=measure_colour(measure), alpha=0.55 if measure != "random" else 0.25)
        for position, fraction in enumerate(zero, start=1):
            if fraction > 0:
                text = f"{100 * fraction:.0f}% = 0" if fraction >= 0.005 else "<1% = 0"
                ax.annotate(text, (position, 1.0), xycoords=("data", "axes fraction"),
                            ha="center", va="bottom", fontsize=6, color="0.3", annotation_clip=False)
        ax.set_ylabel(f"{measure_label(measure)}\n({scale})", fontsize=8)
        ax.grid(axis="y", color="0.9", linewidth=0.6)
    axes[-1][0].set_xticks(range(1, len(labels) + 1), labels, rotation=90, fontsize=7)
    axes[-1][0].set_xlabel("tensor (layer/kind)")
    figure.suptitle(f"Importance per tensor, each measure on its own scale; {context}; boxes: quartiles and "
                    f"median, whiskers: 5th-95th percentiles ({num_trials} trial{'s' if num_trials > 1 else ''} "
                    "pooled); 'x% = 0' above a box: the share of that tensor's importances that are exactly 0, "
                    "left off the log scale", fontsize=9, wrap=True)
    return figure


def plot_first_layer(maps: FirstLayerMaps, context: str = "") -> Figure:
    """The first-layer maps (``atlas_maps``): pixel maps, or each filter with its importances."""
    return _pixel_maps(maps, context) if maps.kind == "pixels" else _filter_maps(maps, context)


def _pixel_maps(maps: FirstLayerMaps, context: str) -> Figure:
    measures = _measures(maps.importances)
    figure, axes = new_figure(1, len(measures), 2.4, 2.3, margin=(0.4, 0.9))
    for ax, measure in zip(axes[0], measures):
        image = ax.imshow(maps.importances[measure], cmap="viridis")
        ax.set_title(measure_label(measure), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        figure.colorbar(image, ax=ax, shrink=0.8, label="summed importance")
    height, width, _ = maps.input_shape
    trials = len(maps.trials)
    figure.suptitle(f"First layer ({maps.layer}, Dense on the flattened {height}×{width} image): each pixel's "
                    f"importance summed over its outgoing weights; {context}, "
                    f"{'mean over ' + str(trials) + ' trials' if trials > 1 else '1 trial'}", fontsize=9, wrap=True)
    return figure


def _filter_maps(maps: FirstLayerMaps, context: str) -> Figure:
    """Filters in blocks of at most 16, one block under the other; each block has its own row labels and colour
    bars (every block shares one scale per row, so the bars of the blocks read the same)."""
    measures = _measures(maps.importances)
    kernel = maps.kernel
    num_filters, per_row = kernel.shape[-1], min(kernel.shape[-1], 16)
    blocks, rows = -(-num_filters // per_row), 1 + len(measures)
    figure = Figure(figsize=(0.62 * per_row + 2.6, 0.66 * rows * blocks + 1.2), layout="constrained")
    weights = kernel.mean(axis=2)  # over input channels (one for grey images)
    limit = float(np.max(np.abs(weights))) or 1.0
    values = {measure: maps.importances[measure].sum(axis=2) for measure in measures}
    ranks = {measure: _ranks(maps.filter_importances(measure)) for measure in measures}
    for block, panel in enumerate(np.atleast_1d(figure.subfigures(blocks, 1))):
        axes = panel.subplots(rows, per_row, squeeze=False)
        for ax in axes.ravel():
            ax.set_xticks([])
            ax.set_yticks([])
        images = [None] * rows
        for column in range(per_row):
            j = block * per_row + column
            if j >= num_filters:
                for ax in axes[:, column]:
                    ax.set_axis_off()
                continue
            images[0] = axes[0][column].imshow(weights[:, :, j], cmap="RdBu_r", vmin=-limit, vmax=limit)
            axes[0][column].set_title(f"filter {j + 1}", fontsize=6)
            for row, measure in enumerate(measures, start=1):
                low, high = values[measure].min(), values[measure].max()
                images[row] = axes[row][column].imshow(values[measure][:, :, j], cmap="viridis", vmin=low, vmax=high)
                axes[row][column].set_title(f"#{ranks[measure][j]}", fontsize=6)
        for row, label in enumerate(["kernel", *map(measure_label, measures)]):
            axes[row][0].set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
            bar = panel.colorbar(images[row], ax=axes[row, :], shrink=0.9, location="right", pad=0.01, aspect=8)
            bar.set_label("weight" if row == 0 else "importance", fontsize=6)
            bar.ax.tick_params(labelsize=5)
    channels = "mean over input channels" if kernel.shape[2] > 1 else "one input channel"
    figure.suptitle(f"First layer ({maps.layer}, {kernel.shape[0]}×{kernel.shape[1]} convolution, {channels}), "
                    f"trial {maps.trials[0]}, {context}: each filter's weights (top row of a block) and each "
                    "measure's importance of them; #k: the filter's rank by summed importance, 1 = most important",
                    fontsize=8, wrap=True)
    return figure


def _ranks(totals: np.ndarray) -> np.ndarray:
    """Rank of every entry of ``totals``, 1 = largest (ties share the better rank)."""
    return np.array([int(np.sum(totals > value)) + 1 for value in totals])


def _legend(figure: Figure, axes, title: str, order=None, columns: int = 1) -> None:
    """One legend for the lines of ``axes``, outside on the right (below the panels, in ``columns`` columns,
    when more than one); labels in ``order`` first, in that order."""
    handles = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if order:
        handles = {**{label: handles[label] for label in order if label in handles}, **handles}
    if handles:
        figure.legend(list(handles.values()), list(handles), fontsize=7, title=title, title_fontsize=7,
                      alignment="left", ncols=columns,
                      loc="outside right center" if columns == 1 else "outside lower center")

