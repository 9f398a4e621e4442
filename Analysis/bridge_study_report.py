"""The bridge study's figure, tables and report, and the one call from a study's folder to all of them
(``run_bridge_study``, what ``Data Analysis.py --bridge`` runs).

The report leads with the primary test (``Analysis.bridge_claims``): its per-trial ρ, interval and own p; then
the measures (each λ at an edge of its grid marked), and every other correlation as secondary, each p-value column
named raw or Holm-adjusted with its family stated.

The figure, one per thresholding setting: a panel per (EWC score, thresholding metric), one point per measure at
its mean over trials with its confidence interval across trials in both directions, each measure its own colour
and marker, named in one legend beside the panels (no text on the panels, so no name covers another), the EWC
baselines ``none`` and ``uniform`` as horizontal lines, and the panel's result (of the scores oriented higher =
better, so ρ > 0 is agreement whichever way each axis runs): the per-trial ρ with its t-interval on Fisher's z
scale and its p, raw for the primary test, Holm-adjusted otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from Analysis.bridge_claims import (FAMILIES, PRIMARY, Primary, best_predictors, lambda_edge_text,
                                    primary_row)
from Analysis.bridge_inputs import declared_primary
from Analysis.bridge_study import (EWC_SCORES, SELECTED, SETTING_KEYS, THRESHOLDING_METRICS, BridgeStudy,
                                   bridge_study, load_bridge)
from Analysis.metrics import DEFAULT_TOLERANCE
from Analysis.paths import safe_name
from Analysis.style import DPI, describe, measure_colour, measure_label, new_figure, save_figure
from Schema import NO_PENALTY, UNIFORM_PENALTY

CORRELATIONS_CSV = "bridge_correlations.csv"
PER_TRIAL_CSV = "bridge_per_trial.csv"
MEASURES_CSV = "bridge_measures.csv"
SCORES_CSV = "bridge_scores.csv"
REPORT_MARKDOWN = "bridge_study.md"
AXIS_LABELS = {"auc_least": "normalised AUC, least important first (lower = better)",
               "auc_most": "normalised AUC, most important first (higher = better)",
               "tolerance_fraction": "fraction removed within tolerance (higher = better)",
               "forgetting_a": "forgetting on task A (lower = better)",
               "average_accuracy": "final average accuracy (higher = better)"}
BASELINE_STYLES = {NO_PENALTY: {"color": "black", "linestyle": "--"},
                   UNIFORM_PENALTY: {"color": "0.5", "linestyle": ":"}}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p", "8", "d")


def figure_path(out_dir, context: dict) -> Path:
    return Path(out_dir) / f"{safe_name('bridge', *(context[key] for key in SETTING_KEYS))}.png"


def plot_bridge(study: BridgeStudy, out_dir, formats=("png",), dpi: float = DPI) -> list[Path]:
    """One scatter figure per thresholding setting (module docstring); returns the files written."""
    written = []
    for setting, summary in study.measures.groupby(list(SETTING_KEYS), sort=True):
        context = dict(zip(SETTING_KEYS, setting))
        written += save_figure(bridge_figure(study, context, summary), figure_path(out_dir, context), formats, dpi)
    return written


def bridge_figure(study: BridgeStudy, context: dict, summary: pd.DataFrame) -> Figure:
    """The figure of one setting (``context``) from its rows of ``study.measures`` (module docstring)."""
    metrics = [m for m in THRESHOLDING_METRICS if summary[f"{m}_mean"].notna().any()]
    figure, axes = new_figure(len(EWC_SCORES), len(metrics), width=4.2, height=3.6, margin=(2.6, 0.7))
    judged = summary[summary[f"{metrics[0]}_mean"].notna()].sort_values("measure")
    legend = {}
    for row, score in enumerate(EWC_SCORES):
        for column, metric in enumerate(metrics):
            ax = axes[row][column]
            for position, (_, point) in enumerate(judged.iterrows()):
                edge = " (λ at grid edge)" if point.get("lambda_at_edge", "") else ""
                handle = ax.errorbar(point[f"{metric}_mean"], point[f"{score}_mean"],
                                     xerr=_half_widths(point, metric), yerr=_half_widths(point, score),
                                     fmt=MARKERS[position % len(MARKERS)], color=measure_colour(point["measure"]),
                                     capsize=2, markersize=5, elinewidth=0.8)
                legend.setdefault(f"{measure_label(point['measure'])}, λ = {point['lambda']:g}{edge}", handle)
            for _, baseline in summary[summary[f"{metrics[0]}_mean"].isna()].iterrows():
                handle = ax.axhline(baseline[f"{score}_mean"], linewidth=1.0,
                                    **BASELINE_STYLES.get(baseline["measure"], {"color": "0.3"}))
                legend.setdefault(f"{baseline['measure']} (EWC baseline, λ = {baseline['lambda']:g})", handle)
            ax.set_xlabel(AXIS_LABELS[metric], fontsize=8)
            ax.set_ylabel(AXIS_LABELS[score], fontsize=8)
            ax.set_title(_correlation_text(study.correlations, context, metric, score), fontsize=8)
    figure.legend(list(legend.values()), list(legend.keys()), loc="outside right center", fontsize=7,
                  title="measure, its selected λ", title_fontsize=7)
    confidence = study.options.get("confidence", 0.95)
    setting_text = describe({key: context[key] for key in SETTING_KEYS[2:]})
    figure.suptitle(f"{context['task']}: thresholding task A ({setting_text}, epoch {context['epoch']}) against EWC "
                    f"from the same importances\nλ chosen on held-out data; bars: {100 * confidence:g}% CI over "
                    "trials", fontsize=9)
    return figure


def _half_widths(point: pd.Series, name: str):
    mean, low, high = point[f"{name}_mean"], point[f"{name}_ci_low"], point[f"{name}_ci_high"]
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return [[mean - low], [high - mean]]


def _correlation_text(correlations: pd.DataFrame, context: dict, metric: str, score: str) -> str:
    rows = correlations[(correlations["thresholding_metric"] == metric) & (correlations["ewc_score"] == score)
                        & (correlations["lambda"] == SELECTED)]
    for key, value in context.items():
        rows = rows[rows[key] == value]
    if rows.empty:
        return ""
    r = rows.iloc[0]
    p = (f"p = {r['per_trial_p_raw']:.2g} (primary test, raw)" if r["role"] == PRIMARY
         else f"p = {r['per_trial_p_holm']:.2g} (Holm)")
    return (f"{'PRIMARY: ' if r['role'] == PRIMARY else ''}per-trial ρ = {r['per_trial_spearman']:.2f} "
            f"[{r['per_trial_ci_low']:.2f}, {r['per_trial_ci_high']:.2f}], {p}\nρ of the means = {r['spearman']:.2f}, "
            f"Kendall τ = {r['kendall']:.2f}")


def correlation_table(study: BridgeStudy, selected_only: bool = True, digits: int = 2) -> pd.DataFrame:
    """The correlations as text columns, the primary first: role; per-trial ρ [Fisher-z t-interval] with its p raw
    and Holm-adjusted; ρ and τ of the means with their permutation p raw and Holm-adjusted and the percentile
    bootstrap interval of ρ; p_best."""
    rows = study.correlations
    if selected_only:
        rows = rows[rows["lambda"] == SELECTED]
    rows = rows.sort_values("role", key=lambda role: role != PRIMARY, kind="stable")
    varying = [key for key in SETTING_KEYS if rows[key].nunique() > 1]
    confidence = f"{100 * study.options.get('confidence', 0.95):g} %"

    def interval(value, low, high):
        return [f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" for v, lo, hi in
                zip(rows[value], rows[low], rows[high])]

    def p_values(column):
        return rows[column].map(lambda v: f"{v:.3g}")

    return pd.DataFrame({"role": rows["role"], **{key: rows[key] for key in varying}, "EWC score": rows["ewc_score"],
                         "λ": rows["lambda"], "thresholding metric": rows["thresholding_metric"],
                         f"per-trial ρ [{confidence} t CI, Fisher z]": interval(
                             "per_trial_spearman", "per_trial_ci_low", "per_trial_ci_high"),
                         "p (t, raw)": p_values("per_trial_p_raw"), "p (t, Holm)": p_values("per_trial_p_holm"),
                         "ρ of means [percentile bootstrap CI]": interval(
                             "spearman", "spearman_bootstrap_ci_low", "spearman_bootstrap_ci_high"),
                         "p (ρ perm., raw)": p_values("spearman_p_raw"), "p (ρ perm., Holm)": p_values("spearman_p_holm"),
                         "τ of means": rows["kendall"].map(lambda v: f"{v:.{digits}f}"),
                         "p (τ perm., raw)": p_values("kendall_p_raw"), "p (τ perm., Holm)": p_values("kendall_p_holm"),
                         "p_best": rows["p_best"].map(lambda v: f"{v:.2f}")}).reset_index(drop=True)


def measure_table(study: BridgeStudy, digits: int = 3) -> pd.DataFrame:
    """Per measure: λ chosen, its grid and whether it is at an edge of it, every score as mean [interval]."""
    rows = study.measures
    columns = {"measure": rows["measure"], "λ": rows["lambda"].map(lambda v: f"{v:g}"),
               "λ grid": rows["lambda_grid"], "λ at edge": rows["lambda_at_edge"]}
    varying = {key: rows[key] for key in SETTING_KEYS if rows[key].nunique() > 1}
    for name in (*THRESHOLDING_METRICS, *EWC_SCORES):
        columns[name] = [("–" if not np.isfinite(m) else f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]")
                         for m, lo, hi in zip(rows[f"{name}_mean"], rows[f"{name}_ci_low"], rows[f"{name}_ci_high"])]
    return pd.DataFrame({**varying, **columns}).reset_index(drop=True)


def primary_text(study: BridgeStudy) -> list[str]:
    """The primary test, as the report's first lines: the hypothesis, where it was declared, ρ, interval and p."""
    r, primary = primary_row(study.correlations), study.primary
    confidence = study.options.get("confidence", 0.95)
    where = describe({key: r[key] for key in SETTING_KEYS[2:]})
    return [f"Primary test: {primary.describe()} ({where}; {int(r['num_measures'])} measures, "
            f"{int(r['num_trials'])} trials); the hypothesis is {primary.source}.",
            f"Per-trial Spearman ρ = {r['per_trial_spearman']:.2f}, {100 * confidence:g} % interval "
            f"[{r['per_trial_ci_low']:.2f}, {r['per_trial_ci_high']:.2f}] (t-interval on Fisher's z), "
            f"p = {r['per_trial_p_raw']:.2g} (one-sample t-test of z; the one primary test, not adjusted). It covers "
            "the typical per-trial ρ of these measures over repetitions of the training, not of other measures.",
            "Every other p is secondary and is called significant only Holm-adjusted within its family: "
            + "; ".join(f"`{adjusted}` over {family}" for adjusted, family in FAMILIES.values()) + "."]


def format_bridge_study(study: BridgeStudy) -> str:
    """The primary test first, then the measures (λ at an edge marked), the correlations at the selected λ and the
    best thresholding metric per EWC score, as text."""
    best = best_predictors(study.correlations, SETTING_KEYS, SELECTED)
    edges = lambda_edge_text(study.measures)
    lines = [*primary_text(study), "", measure_table(study).to_string(index=False), *([edges] if edges else []), "",
             correlation_table(study).to_string(index=False), ""]
    for _, r in best.iterrows():
        where = f"{r['ewc_score']} ({describe({k: r[k] for k in SETTING_KEYS[2:]})})"
        if not r["spearman"] > 0:
            lines.append(f"No thresholding metric ranks the measures as {where} does: every ρ of the means ≤ 0 (the "
                         f"highest, {r['thresholding_metric']}, {r['spearman']:.2f}).")
            continue
        lines.append(f"Highest ρ of the means with {where}: {r['thresholding_metric']}, ρ = {r['spearman']:.2f} "
                     f"(permutation p = {r['spearman_p_raw']:.2g} raw, {r['spearman_p_holm']:.2g} Holm; highest in "
                     f"{100 * r['p_best']:.0f}% of bootstrap resamples)")
    return "\n".join(lines)


def save_bridge_study(study: BridgeStudy, out_dir, formats=("png",), dpi: float = DPI) -> list[Path]:
    """The tables (CSV), the figures and ``bridge_study.md`` in ``out_dir``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in ((CORRELATIONS_CSV, study.correlations), (PER_TRIAL_CSV, study.per_trial),
                        (MEASURES_CSV, study.measures), (SCORES_CSV, study.scores)):
        frame.to_csv(out / name, index=False)
        written.append(out / name)
    figures = plot_bridge(study, out, formats=tuple(dict.fromkeys(("png", *formats))), dpi=dpi)
    every_lambda = correlation_table(study, selected_only=False)
    edges = lambda_edge_text(study.measures)
    text = ["# Thresholding against EWC from the same importances", "", "## Primary test", "",
            *(f"{line}\n" for line in primary_text(study)),
            "Scores oriented so that higher = better; ρ > 0: the measures that threshold better protect task A "
            "better. λ chosen per measure on the held-out selection split (`selected`).", "",
            "## Measures", "", measure_table(study).to_markdown(index=False), "", *([edges, ""] if edges else []),
            "## Rank correlations at the selected λ: the primary, then the secondary", "",
            correlation_table(study).to_markdown(index=False), "",
            *(f"![bridge]({f.name})" for f in figures if f.suffix == ".png"), "",
            "## At every λ (secondary)", "", every_lambda.to_markdown(index=False), ""]
    (out / REPORT_MARKDOWN).write_text("\n".join(text))
    return [*written, *figures, out / REPORT_MARKDOWN]


def run_bridge_study(results_dir, out_dir, tolerance: float = DEFAULT_TOLERANCE, confidence: float = 0.95,
                     num_resamples: int = 2000, seed: int = 0, formats=("png",), dpi: float = DPI,
                     primary: dict | None = None) -> BridgeStudy:
    """Read the study in ``results_dir``, analyse it and save everything in ``out_dir``. ``primary``: the
    primary hypothesis (``Schema.BRIDGE_PRIMARY``'s fields); None: the one the study's configuration declares."""
    declared, source = declared_primary(results_dir)
    hypothesis = Primary.from_record(declared, source)
    if primary is not None and {**declared, **primary} != declared:
        hypothesis = Primary.from_record({**declared, **primary}, f"given at analysis, not the declared one "
                                                                  f"({hypothesis.describe()}: {source})")
    study = bridge_study(*load_bridge(results_dir), tolerance=tolerance, confidence=confidence,
                         num_resamples=num_resamples, seed=seed, primary=hypothesis)
    if study.correlations.empty:
        raise ValueError(f"The study in {results_dir} has too few complete trials or measures for a rank "
                         "correlation (at least 2 trials and 3 measures).")
    save_bridge_study(study, out_dir, formats=formats, dpi=dpi)
    return study
