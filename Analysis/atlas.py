"""The importance atlas: what the measures of a run agree on, which layers they empty and what they look at, from
the importances the run saved (``save_importances=True``), read with NumPy alone.

    atlas = build_atlas(["results/digits_importances"])          # tables for every trial and epoch
    written = save_atlas(atlas, "figures", formats=("png", "pdf"))  # atlas_*.csv and inside_*.png

Tables (``atlas_metrics`` says exactly what each computes), one row per run, trial and epoch:
``agreement`` (Spearman and Kendall between measures, over all weights and per tensor), ``overlap`` (Jaccard of
the sets two measures remove at the run's fractions, weight level, layer scope, both orders), ``allocation`` (the
fraction of each tensor a model-scope ranking removes, for the run's orders), ``distribution`` (quantiles per
tensor) and ``first_layer`` (the first-layer maps of image tasks, ``atlas_maps``).

Figures (``atlas_figures``), per run at the last epoch (or each epoch asked for): agreement heatmaps and overlap
curves (means over trials), layer allocation (mean over trials), distributions (trials pooled) and first-layer
maps. ``notes`` says what was left out and why (e.g. files written before format 2 have no first-layer maps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from Analysis import paths
from Analysis.atlas_figures import plot_agreement, plot_allocation, plot_distributions, plot_first_layer, plot_overlap
from Analysis.atlas_loading import ImportanceRun, load_importances_folder
from Analysis.atlas_maps import FirstLayerMaps, first_layer_maps
from Analysis.atlas_metrics import (agreement_table, allocation_table, distribution_table, overlap_table,
                                    selected_tensors, set_seed)
from Analysis.style import DPI, check_formats, save_figure

TABLES = {"agreement": paths.ATLAS_AGREEMENT_CSV, "overlap": paths.ATLAS_OVERLAP_CSV,
          "allocation": paths.ATLAS_ALLOCATION_CSV, "distribution": paths.ATLAS_DISTRIBUTION_CSV,
          "first_layer": paths.ATLAS_FIRST_LAYER_CSV}
KEYS = ("run", "task", "trial", "epoch")


@dataclass
class ImportanceAtlas:
    """The atlas of one or several runs: its tables, first-layer maps by (run, epoch), and notes on what was left
    out. ``figure_epochs`` by run: the epochs drawn (the last one unless others were asked for)."""

    runs: list[ImportanceRun] = field(repr=False)
    agreement: pd.DataFrame = field(repr=False)
    overlap: pd.DataFrame = field(repr=False)
    allocation: pd.DataFrame = field(repr=False)
    distribution: pd.DataFrame = field(repr=False)
    first_layer: pd.DataFrame = field(repr=False)
    maps: dict[tuple[str, int], FirstLayerMaps] = field(default_factory=dict, repr=False)
    notes: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    figure_epochs: dict[str, list[int]] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def build_atlas(folders, measures=None, epochs=None) -> ImportanceAtlas:
    """Read every ``_importances`` folder in ``folders`` (only ``measures`` and ``epochs`` if given; ``random``
    is always kept) and compute the atlas' tables for each of its trials and epochs."""
    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    if not folders:
        raise ValueError("No importances folder given.")
    runs = [load_importances_folder(folder, measures=measures, epochs=epochs) for folder in folders]
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"Two importances folders belong to runs of the same name {names}; give folders of "
                         "differently named results files.")
    tables = {name: [] for name in TABLES}
    maps, notes, figure_epochs = {}, {}, {}
    for run in runs:
        figure_epochs[run.name] = sorted(epochs) if epochs else [run.epochs()[-1]]
        figure_epochs[run.name] = [e for e in figure_epochs[run.name] if e in run.epochs()]
        for epoch in run.epochs():
            notes[(run.name, epoch)] = {}
            for trial in run.trials():
                sets = run.at(trial, epoch)
                if not sets:
                    continue
                keys = {"run": run.name, "task": run.task, "trial": trial, "epoch": epoch}
                seed = set_seed(next(iter(sets.values())), run.config)
                tables["distribution"].append(_keyed(distribution_table(sets), keys))
                try:
                    selected_tensors(next(iter(sets.values())).tensors, run.parameters)
                except ValueError as error:
                    notes[(run.name, epoch)]["selection"] = str(error)
                    continue
                tables["agreement"].append(_keyed(agreement_table(sets, run.parameters), keys))
                if len(sets) >= 2:
                    tables["overlap"].append(_keyed(overlap_table(sets, run.fractions, run.parameters, seed), keys))
                tables["allocation"].append(_keyed(allocation_table(
                    sets, _allocation_fractions(run.fractions), run.parameters, seed, run.orders), keys))
            found, reason = first_layer_maps(run, epoch)
            if found is not None:
                maps[(run.name, epoch)] = found
                tables["first_layer"].append(_keyed(found.table(), {"run": run.name, "task": run.task,
                                                                    "trial": found.trials[0] if found.kind ==
                                                                    "filters" else -1, "epoch": epoch}))
            else:
                notes[(run.name, epoch)]["first_layer"] = reason
    frames = {name: pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(KEYS))
              for name, parts in tables.items()}
    return ImportanceAtlas(runs=runs, maps=maps, notes=notes, figure_epochs=figure_epochs, **frames)


def save_atlas(atlas: ImportanceAtlas, out_dir, formats=("png",), dpi: float = DPI) -> dict[str, list[Path]]:
    """Write the atlas' tables (``atlas_*.csv``) and figures (``inside_KIND_RUN_epochE``, each in every one of
    ``formats`` at ``dpi``) into ``out_dir``; returns the files by kind (``tables`` and each of
    ``paths.ATLAS_FIGURES``)."""
    return {"tables": save_atlas_tables(atlas, out_dir), **save_atlas_figures(atlas, out_dir, formats, dpi)}


def save_atlas_tables(atlas: ImportanceAtlas, out_dir) -> list[Path]:
    """The atlas' tables as CSV in ``out_dir`` (``TABLES``); returns the files."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in atlas.tables().items():
        table.to_csv(out_dir / TABLES[name], index=False)
        written.append(out_dir / TABLES[name])
    return written


def save_atlas_figures(atlas: ImportanceAtlas, out_dir, formats=("png",), dpi: float = DPI) -> dict[str, list[Path]]:
    """The atlas' figures in ``out_dir``, by kind (module docstring)."""
    formats = check_formats(formats)
    written = {kind: [] for kind in paths.ATLAS_FIGURES}
    for run in atlas.runs:
        for epoch in atlas.figure_epochs.get(run.name, []):
            for kind, figure in atlas_figures(atlas, run, epoch).items():
                written[kind] += save_figure(figure, paths.atlas_figure(out_dir, kind, run.name, epoch), formats, dpi)
    return written


def atlas_figures(atlas: ImportanceAtlas, run: ImportanceRun, epoch: int) -> dict:
    """The figures of one run at one epoch, by kind; a kind whose data are missing is left out (``notes``)."""
    def rows(table: pd.DataFrame) -> pd.DataFrame:
        if table.empty:
            return table
        return table[(table["run"] == run.name) & (table["epoch"] == epoch)]

    context = f"{run.task}, epoch {epoch}"
    figures = {}
    if not rows(atlas.agreement).empty:
        figures["agreement"] = plot_agreement(rows(atlas.agreement), context)
    if not rows(atlas.overlap).empty:
        figures["overlap"] = plot_overlap(rows(atlas.overlap), context)
    if not rows(atlas.allocation).empty:
        figures["allocation"] = plot_allocation(rows(atlas.allocation), context)
    sets = [s for s in run.sets if s.epoch == epoch]
    if sets:
        figures["distribution"] = plot_distributions(sets, context)
    if (run.name, epoch) in atlas.maps:
        figures["first_layer"] = plot_first_layer(atlas.maps[(run.name, epoch)], context)
    return figures


def agreement_summary(atlas: ImportanceAtlas, column: str = "spearman") -> pd.DataFrame:
    """Mean ``column`` (``spearman`` or ``kendall``) over all weights and over trials at each run's last figure
    epoch, as a (run, measure) x measure table."""
    table = atlas.agreement
    if table.empty:
        return pd.DataFrame()
    frames = []
    for run in atlas.runs:
        epochs = atlas.figure_epochs.get(run.name) or [None]
        rows = table[(table["run"] == run.name) & (table["epoch"] == epochs[-1]) & (table["tensor"] == "all")]
        if rows.empty:
            continue
        means = rows.groupby(["measure_a", "measure_b"])[column].mean()
        both = pd.concat([means, means.rename_axis(["measure_b", "measure_a"]).reorder_levels([1, 0])])
        matrix = both.unstack()
        for measure in matrix.index.intersection(matrix.columns):
            matrix.loc[measure, measure] = 1.0
        matrix = matrix.round(3)
        matrix.index = pd.MultiIndex.from_product([[run.name], matrix.index], names=["run", "measure"])
        frames.append(matrix)
    return pd.concat(frames) if frames else pd.DataFrame()


def _allocation_fractions(fractions) -> list[float]:
    """The run's fractions and 0, 0.02, ..., 1, so the allocation curves are smooth."""
    return sorted({round(i / 50, 10) for i in range(51)} | {float(f) for f in fractions})


def _keyed(table: pd.DataFrame, keys: dict) -> pd.DataFrame:
    for position, (name, value) in enumerate(keys.items()):
        table.insert(position, name, value)
    return table
