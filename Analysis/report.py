"""One self-contained Markdown report of a thresholding analysis (``report.md`` with its PNG figures beside it).

It opens with a warning for each trained model at chance (``chance``: its curves measure noise, and what to
check). With fewer than ``MIN_TRIALS`` trials one sentence says that intervals and tests need more, and the
sections that need two trials say so once instead of a line per cell.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd

from Analysis import original, paths
from Analysis.chance import chance_statements
from Analysis.columns import GROUP_KEYS
from Analysis.comparisons import DEFAULT_ALPHA, small_sample_note
from Analysis.figures import band_text
from Analysis.loading import load_config
from Analysis.statistics_figures import stability_panels
from Analysis.style import aggregation_label, describe
from Analysis.summary import interval_column, summary_table, tolerance_fraction_shown
from Analysis.thresholding import ThresholdingAnalysis, analyze, make_figures, save_tables
from Schema import BASELINE_MEASURE, config_path

# Fewer trials than this, and the report says once that intervals and tests need more.
MIN_TRIALS = 3


def write_report(results: pd.DataFrame, out_dir, config=None, analysis: ThresholdingAnalysis | None = None,
                 figures: dict | None = None, band: str = "se", **options) -> Path:
    """Write ``out_dir/report.md``: curves with bands, ranking tables with confidence intervals, significance
    matrices with plain statements, ranking stability, and the configuration that produced the results. Where
    the results hold fewer trials than a statistic needs, one sentence says so instead of a line per cell.

    ``config``: a dict, the path of a configuration JSON or of a results CSV (its JSON beside it is read), or None
    to read the JSON beside every ``source`` file of ``results``. ``analysis``: a ready ``analyze`` result (else
    computed with ``options``, e.g. ``tolerance=0.1, test="wilcoxon"``). ``figures``: figures already drawn by
    ``make_figures`` (their PNG files copied next to the report), else drawn there as PNG. Also writes the
    tables as CSV. Returns the report's path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if analysis is None:
        analysis = analyze(results, **options)
    elif options:
        raise ValueError(f"Options {sorted(options)} are ignored when a ready analysis is given; pass one or the "
                         "other.")
    configs = _configurations(results, config)
    pngs = [Path(f) for files in (figures or {}).values() for f in files if Path(f).suffix == ".png"]
    if pngs:
        _copy_figures(pngs, out_dir)
    else:
        make_figures(analysis, out_dir, band=band)
    save_tables(analysis, out_dir)

    num_trials = int(analysis.summary["num_trials"].max()) if not analysis.summary.empty else 0
    # First of all, the trained models at chance: every curve measured on them is noise.
    chance = [f"**Warning:** {statement}" for statement in chance_statements(analysis.at_chance)]
    lines = ["# Thresholding analysis", "", *chance, *([""] if chance else [])]
    lines += _overview(results)
    # Results in the original toolkit's layout: what was mapped, and why its aggregated file has no statistics.
    lines += original.report_lines(results)
    aggregated = original.aggregated_note(pd.unique(results["source"])) if "source" in results.columns else None
    if num_trials < MIN_TRIALS:
        lines += [f"**{aggregated or trials_note(num_trials)}**", ""]
    lines += _method(analysis.options, band)
    note = small_sample_note(analysis.comparisons, analysis.options.get("alpha", DEFAULT_ALPHA))
    if note and num_trials >= MIN_TRIALS:
        lines += [f"**Note:** {note}", ""]
    lines += _curves_section(analysis, out_dir, band)
    lines += _ranking_section(analysis)
    lines += _significance_section(analysis, out_dir)
    lines += _stability_section(analysis, out_dir)
    lines += _configuration_section(configs)
    path = out_dir / paths.REPORT_MARKDOWN
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def trials_note(num_trials: int) -> str:
    """The one sentence that says a run has too few trials for statistics."""
    trials = f"{num_trials} trial" + ("s" if num_trials != 1 else "")
    return f"{trials}: run {MIN_TRIALS} or more trials for confidence intervals and tests."


def markdown_table(table: pd.DataFrame) -> str:
    """``table`` as a GitHub-flavoured Markdown table (``DataFrame.to_markdown``): every cell as its text, with
    ``|`` escaped and line breaks as spaces, so no number is reformatted."""
    def cell(value) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    text = table.map(cell).rename(columns=cell)
    return text.to_markdown(index=False, disable_numparse=True)


def _configurations(results: pd.DataFrame, config) -> dict[str, dict | None]:
    if config is None:
        sources = pd.unique(results["source"]).tolist() if "source" in results.columns else []
        return {str(source): load_config(source) for source in sources}
    if isinstance(config, dict):
        return {"configuration": config}
    if isinstance(config, (str, os.PathLike)):
        path = Path(config)
        if path.suffix.lower() == ".csv":
            value = load_config(path)
            return {str(config_path(path)): value} if value is not None else {}
        if not path.is_file():
            raise FileNotFoundError(f"Configuration file {path} does not exist.")
        try:
            return {str(path): json.loads(path.read_text(encoding="utf-8"))}
        except json.JSONDecodeError as error:
            raise ValueError(f"The configuration file {path} is not valid JSON: {error}.") from error
    raise TypeError(f"config must be a dict, a path or None, got {type(config).__name__}.")


def _copy_figures(files: list[Path], out_dir: Path) -> None:
    for file in files:
        if file.resolve().parent != out_dir.resolve():
            shutil.copy2(file, out_dir / file.name)


def _overview(results: pd.DataFrame) -> list[str]:
    lines = []
    if "source" in results.columns:
        lines.append("Results: " + ", ".join(f"`{s}`" for s in pd.unique(results["source"])) + ".")
        lines.append("")
    num_trials = results["trial"].nunique()
    lines.append(f"{len(results)} evaluations from {num_trials} trial{'s' if num_trials != 1 else ''}; tasks "
                 f"{_listing(results['task'])}; epochs {_listing(results['epoch'])}; measures "
                 f"{_listing(results['measure'])}.")
    if "source_trial" in results.columns and (results["source_trial"] != results["trial"]).any():
        lines.append("")
        lines.append("Trial ids were ambiguous across files and were renumbered by (file, trial, seed); the "
                     "tables keep the original ids in `source_trial`.")
    if BASELINE_MEASURE not in set(results["measure"]):
        lines.append("")
        lines.append(f"**The baseline `{BASELINE_MEASURE}` is missing from these results.**")
    return lines + [""]


def _method(options: dict, band: str) -> list[str]:
    confidence = f"{100 * options.get('confidence', 0.95):g}%"
    tolerance = options.get("tolerance")
    reference = options.get("tolerance_reference", "loss")
    limit = (f"L0 (1 + {tolerance:g})" if reference == "loss" else f"L0 + {tolerance:g} (Lc - L0)")
    tests = {"t": "paired t-test", "wilcoxon": "Wilcoxon signed-rank test",
             "permutation": "paired sign-flip permutation test"}
    metric = options.get("metric", "normalized_auc")
    bootstrap = options.get("ci_method", "t") == "bootstrap"
    fraction_interval = ("the percentile bootstrap too" if bootstrap else "a t-interval on the logit scale "
                         "(delta method), mapped back")
    return [
        "## Method",
        "",
        f"- Curves: mean validation loss across trials at each measured threshold (where trials measured different "
        f"thresholds, each trial's curve is interpolated linearly over the fraction removed at the union of them); "
        f"markers at the measured points; the band is "
        f"{'±1 standard error' if band == 'se' else f'the {confidence} t-interval'} across trials; the dash-dotted "
        "line is the chance level, the mean `chance_val_loss`.",
        "- AUC: trapezoid area under the validation loss over the fraction of weights actually removed, from each "
        "trial's own measured points.",
        "- Normalized AUC: (A - L0) / (Lc - L0), with A the area over fractions [0, 1] (completed with (0, L0) and "
        "(1, Lc) where not measured), L0 the loss with nothing removed and Lc the chance loss (every thresholded "
        "weight replaced): 0 = the loss stays at the trained loss, 1 = at chance throughout.",
        f"- Max fraction within tolerance (order `least` only): the largest fraction removed before the first "
        f"measured threshold whose loss exceeds {limit}.",
        f"- Means across trials with {confidence} confidence intervals "
        f"({'percentile bootstrap' if bootstrap else 'Student t'}); the max fraction within tolerance, bounded to "
        f"[0, 1], with {fraction_interval}, so its interval stays inside [0, 1] without clipping.",
        f"- Ranking by mean `{metric}`: for order `least` lower is better, for `most` higher is better"
        + (" (the reverse for the max fraction within tolerance)." if metric == "max_fraction_within_tolerance"
           else "."),
        f"- Comparisons: {tests.get(options.get('test', 't'), options.get('test'))} across trials on `{metric}` for "
        f"every pair of measures of a group, Holm-corrected within the group, significant when p_holm < "
        f"{options.get('alpha', 0.05):g}; effect size Cohen's d_z of the paired differences.",
        "- Stability: Kendall's W (with tie correction) of the rankings of the measures by different trials, and "
        "by different epochs (means over trials); 1 = identical rankings.",
        "",
    ]


def _curves_section(analysis: ThresholdingAnalysis, out_dir: Path, band: str) -> list[str]:
    curves = analysis.curves
    caption = f"*{band_text(curves, band, analysis.options.get('confidence', 0.95))}.*"
    lines = ["## Curves", ""]
    for (task, epoch, level, method), _ in curves.groupby(["task", "epoch", "aggregation_level",
                                                           "aggregation_method"], sort=True):
        lines += [f"### {task}, epoch {epoch}, {aggregation_label(level, method)}", "",
                  _image(paths.curves_figure(out_dir, task, epoch, level, method), out_dir), "", caption, ""]
    if curves[["aggregation_level", "aggregation_method"]].drop_duplicates().shape[0] > 1:
        lines += ["### Each measure across aggregations", ""]
        for (task, epoch, measure), _ in curves.groupby(["task", "epoch", "measure"], sort=True):
            lines += [_image(paths.aggregation_figure(out_dir, task, epoch, measure), out_dir), ""]
    if curves["epoch"].nunique() > 1:
        lines += ["### Overview: epochs down, aggregations across", ""]
        for (task, scope, order, parameters, replacement), _ in curves.groupby(
                ["task", "scope", "order", "parameters", "replacement"], sort=True):
            lines += [_image(paths.overview_figure(out_dir, task, scope, order, replacement, parameters), out_dir),
                      ""]
    return lines


def _ranking_section(analysis: ThresholdingAnalysis) -> list[str]:
    confidence = f"{100 * analysis.options.get('confidence', 0.95):g}%"
    table = summary_table(analysis.summary)
    lines = ["## Ranking", ""]
    for keys, group in table.groupby(list(GROUP_KEYS), sort=True, dropna=False):
        context = dict(zip(GROUP_KEYS, keys))
        with_interval = group["normalized_auc_ci_low"].notna().any()
        shown = pd.DataFrame({
            "rank": group["rank"].map(lambda v: "-" if pd.isna(v) else int(v)),
            "measure": group["measure"].map(lambda m: f"**{m}**" if m == BASELINE_MEASURE else m),
            "trials": group["num_trials"],
            "normalized AUC" + (f" [{confidence} CI]" if with_interval else ""): interval_column(group,
                                                                                               "normalized_auc"),
            "AUC": group["auc_mean"].map(lambda v: f"{v:.3f}"),
        })
        if tolerance_fraction_shown(context["order"]):
            name = "max fraction within tolerance" + (f" [{confidence} CI]" if with_interval else "")
            shown[name] = interval_column(group, "max_fraction_within_tolerance")
        lines += [f"### {_group_title(context)}", "", markdown_table(shown), ""]
    return lines


def _significance_section(analysis: ThresholdingAnalysis, out_dir: Path) -> list[str]:
    lines = ["## Significance", ""]
    comparisons = analysis.comparisons
    if comparisons.empty:
        return lines + ["No group holds two measures to compare.", ""]
    tested = comparisons["num_pairs"] >= 2
    if not tested.any():
        return lines + ["Paired tests need at least 2 trials that hold both measures; no pair has them here.", ""]
    for (task, epoch, level, method), data in comparisons[tested].groupby(
            ["task", "epoch", "aggregation_level", "aggregation_method"], sort=True):
        lines += [f"### {task}, epoch {epoch}, {aggregation_label(level, method)}", "",
                  _image(paths.significance_figure(out_dir, task, epoch, level, method), out_dir), ""]
        for keys, group in data.groupby(["order", "scope", "parameters", "replacement"], sort=True):
            group = group.sort_values(["significant", "p_holm"], ascending=[False, True], kind="stable")
            lines += [describe(dict(zip(("order", "scope", "parameters", "replacement"), keys))) + ":", ""]
            lines += [f"- {statement}" for statement in group["statement"]]
            lines.append("")
    if not tested.all():
        lines += [f"{int((~tested).sum())} pairs of measures with fewer than 2 paired trials are not tested.", ""]
    return lines


def _stability_section(analysis: ThresholdingAnalysis, out_dir: Path) -> list[str]:
    lines = ["## Stability of the ranking", ""]
    tables = {"Across trials": (analysis.trial_stability, "Agreement across trials needs at least 2 trials."),
              "Across epochs": (analysis.epoch_stability, "Agreement across epochs needs at least 2 epochs.")}
    for task in sorted(analysis.trial_stability["task"].unique()):
        if any(stability_panels(analysis.trial_stability, analysis.epoch_stability, task)):
            lines += [_image(paths.stability_figure(out_dir, task), out_dir), ""]
    for name, (table, missing) in tables.items():
        table = table[table["kendalls_w"].notna()]
        if table.empty:
            lines += [missing, ""]
            continue
        shown = table.drop(columns="across").copy()
        for column in ("kendalls_w", "mean_spearman"):
            shown[column] = shown[column].map(lambda v: "nan" if pd.isna(v) else f"{v:.3f}")
        lines += [f"### {name}", "", markdown_table(shown), ""]
    return lines


def _configuration_section(configs: dict[str, dict]) -> list[str]:
    lines = ["## Configuration", ""]
    if not configs:
        return lines + ["No configuration was given, and the results do not name their files.", ""]
    for source, config in configs.items():
        if config is None:
            lines += [f"`{source}`: no configuration JSON beside it (`{config_path(source).name}`).", ""]
        else:
            lines += [f"`{source}`:", "", "```json", json.dumps(config, indent=2, default=str), "```", ""]
    return lines


def _image(path: Path, out_dir: Path) -> str:
    path = Path(path)
    if not path.is_file():
        return f"(figure {path.name} was not drawn)"
    return f"![{path.stem}]({path.relative_to(out_dir).as_posix()})"


def _group_title(context: dict) -> str:
    context = dict(context)
    return f"{context.pop('task')}, " + describe(context)


def _listing(values: pd.Series) -> str:
    unique = sorted(pd.unique(values).tolist(), key=lambda v: (isinstance(v, str), v))
    return ", ".join(str(v) for v in unique)

