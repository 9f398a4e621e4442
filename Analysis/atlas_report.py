"""The report's section "Inside the measures": the atlas' figures with one line each on what they show, its
tables, and what was left out and why. ``write_report`` adds it when given an atlas; ``write_atlas_report`` writes
it alone (``inside_the_measures.md``) for importances without thresholding results."""

from __future__ import annotations

from pathlib import Path

from Analysis import paths
from Analysis.atlas import TABLES, ImportanceAtlas, save_atlas_figures, save_atlas_tables
from Analysis.style import PARAMETER_LABELS

CAPTIONS = {
    "agreement": "Rank correlation between every two measures' importances, over all thresholded weights (left: "
                 "Spearman ρ below the diagonal, Kendall τ above) and within each tensor (right: ρ); 1 = the same "
                 "order, 0 = unrelated, mean over trials.",
    "overlap": "Jaccard overlap |A∩B| / |A∪B| of the weights two measures remove at each of the run's fractions: "
               "the sets the run replaced at level weight, scope layer (each layer removes floor(f·N + 0.5) of its "
               "weights, ties broken with the trial's seed), least and most important first; dotted, two "
               "independent random sets of the same sizes.",
    "allocation": "Fraction of each tensor that one ranking across the whole model (scope model) removes as the "
                  "overall fraction grows; the dashed diagonal is the layer scope, where every layer loses the same "
                  "fraction. A tensor above it is emptied early: the allocation that the shuffled control keeps.",
    "distribution": "Spread of each measure's importances within each tensor (log scale where positive): scale "
                    "differences between layers are what a ranking across the model turns into uneven removal.",
    "first_layer_pixels": "Importance of each input pixel: the importances of its weights into the first (Dense) "
                          "layer summed over units, as an image, mean over trials.",
    "first_layer_filters": "Each filter of the first convolution (its weights, top) with each measure's importance "
                           "of those weights beside it, and the filter's rank by summed importance (one trial: "
                           "filters are not matched across trials).",
}
NOTE_TOPICS = {"first_layer": "First-layer maps", "selection": "Agreement, overlap and allocation"}


def inside_measures_section(atlas: ImportanceAtlas, out_dir, heading: str = "##") -> list[str]:
    """The section's Markdown lines, for a report in ``out_dir``: writes the atlas' tables there and draws (as
    PNG) any of its figures that are not there yet."""
    out_dir = Path(out_dir)
    save_atlas_tables(atlas, out_dir)
    expected = [paths.atlas_figure(out_dir, kind, run.name, epoch) for run in atlas.runs
                for epoch in atlas.figure_epochs.get(run.name, []) for kind in paths.ATLAS_FIGURES]
    if any(not path.is_file() for path in expected):
        save_atlas_figures(atlas, out_dir)
    lines = [f"{heading} Inside the measures", "",
             "Read from the importances the run saved (`save_importances=True`), with NumPy alone: where the "
             "measures agree, which layers they empty, how their scales differ between tensors and, for image "
             "tasks, what the first layer looks at. Tables: " + ", ".join(f"[`{name}`]({name})"
                                                                        for name in TABLES.values()) + ".", ""]
    for run in atlas.runs:
        lines += [f"{heading}# {run.name}", "", _describe_run(run), ""]
        for epoch in atlas.figure_epochs.get(run.name, []):
            drawn = [(kind, paths.atlas_figure(out_dir, kind, run.name, epoch)) for kind in paths.ATLAS_FIGURES]
            drawn = [(kind, path) for kind, path in drawn if path.is_file()]
            for kind, path in drawn:
                caption = CAPTIONS[kind if kind != "first_layer" else
                                   f"first_layer_{atlas.maps[(run.name, epoch)].kind}"]
                lines += [f"![{path.stem}]({path.name})", "", f"*Epoch {epoch}. {caption}*", ""]
            for topic, reason in atlas.notes.get((run.name, epoch), {}).items():
                lines += [f"{NOTE_TOPICS.get(topic, topic)} at epoch {epoch} are not drawn: {reason}.", ""]
    return lines


def write_atlas_report(atlas: ImportanceAtlas, out_dir) -> Path:
    """``out_dir/inside_the_measures.md``: the section alone, with its figures and tables beside it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = inside_measures_section(atlas, out_dir, heading="#")
    path = out_dir / paths.ATLAS_REPORT_MARKDOWN
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _describe_run(run) -> str:
    trials, epochs = run.trials(), run.epochs()
    fractions = ", ".join(f"{f:g}" for f in run.fractions)
    source = {"configuration": "from its configuration", "results": "as its results CSV records them",
              "default": "a default grid: neither its configuration nor its results could be read"}[
        run.fractions_source]
    return (f"`{run.folder}`: task {run.task}, {len(trials)} trial{'s' if len(trials) != 1 else ''}, epochs "
            f"{', '.join(map(str, epochs))}, measures {', '.join(run.measures())}; "
            f"{PARAMETER_LABELS.get(run.parameters, run.parameters)} thresholded; fractions {fractions} "
            f"({source}).")
