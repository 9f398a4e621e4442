"""The bridge study's figure, tables and report, and the one call from a study's folder to all of them
(``run_bridge_study``, what ``Data Analysis.py --bridge`` runs).

The figure, one per thresholding setting: a panel per (EWC score, thresholding metric), one point per measure at
its mean over trials with its confidence interval across trials in both directions, the EWC baselines ``none``
and ``uniform`` as horizontal lines, and the panel's rank correlation (of the scores oriented higher = better, so
ρ > 0 is agreement whichever way each axis runs) with its bootstrap interval and permutation p-value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from Analysis.bridge_study import (EWC_SCORES, SELECTED, SETTING_KEYS, THRESHOLDING_METRICS, BridgeStudy,
                                   best_predictors, bridge_study, load_bridge)
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


def figure_path(out_dir, context: dict) -> Path:
    return Path(out_dir) / f"{safe_name('bridge', *(context[key] for key in SETTING_KEYS))}.png"


def plot_bridge(study: BridgeStudy, out_dir, formats=("png",), dpi: float = DPI) -> list[Path]:
    """One scatter figure per thresholding setting (module docstring); returns the files written."""
    written = []
    for setting, summary in study.measures.groupby(list(SETTING_KEYS), sort=True):
        context = dict(zip(SETTING_KEYS, setting))
        metrics = [m for m in THRESHOLDING_METRICS if summary[f"{m}_mean"].notna().any()]
        figure, axes = new_figure(len(EWC_SCORES), len(metrics), width=4.2, height=3.6, margin=(0.2, 0.5))
        judged = summary[summary[f"{metrics[0]}_mean"].notna()]
        for row, score in enumerate(EWC_SCORES):
            for column, metric in enumerate(metrics):
                ax = axes[row][column]
                for _, point in judged.iterrows():
                    x, y = point[f"{metric}_mean"], point[f"{score}_mean"]
                    ax.errorbar(x, y, xerr=_half_widths(point, metric), yerr=_half_widths(point, score), fmt="o",
                                color=measure_colour(point["measure"]), capsize=2, markersize=4, elinewidth=0.8)
                    ax.annotate(measure_label(point["measure"]), (x, y), textcoords="offset points", xytext=(3, 3),
                                fontsize=7)
                for _, baseline in summary[summary[f"{metrics[0]}_mean"].isna()].iterrows():
                    ax.axhline(baseline[f"{score}_mean"], linewidth=1.0,
                               label=f"{baseline['measure']} (λ={baseline['lambda']:g})",
                               **BASELINE_STYLES.get(baseline["measure"], {"color": "0.3"}))
                ax.set_xlabel(AXIS_LABELS[metric], fontsize=8)
                ax.set_ylabel(AXIS_LABELS[score], fontsize=8)
                ax.set_title(_correlation_text(study.correlations, context, metric, score), fontsize=8)
                if ax.get_legend_handles_labels()[0]:
                    ax.legend(fontsize=7, loc="best")
        confidence = study.options.get("confidence", 0.95)
        setting_text = describe({key: context[key] for key in SETTING_KEYS[2:]})
        figure.suptitle(f"{context['task']}: thresholding task A ({setting_text}, epoch {context['epoch']}) against "
                        f"EWC from the same importances, λ chosen on held-out data; bars: {100 * confidence:g}% CI "
                        "over trials", fontsize=9)
        written += save_figure(figure, figure_path(out_dir, context), formats, dpi)
    return written


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
    return (f"Spearman ρ = {r['spearman']:.2f} [{r['spearman_ci_low']:.2f}, {r['spearman_ci_high']:.2f}], "
            f"p = {r['spearman_p']:.2g}\nKendall τ = {r['kendall']:.2f}; mean per-trial ρ = "
            f"{r['per_trial_spearman']:.2f}")


def correlation_table(study: BridgeStudy, selected_only: bool = True, digits: int = 2) -> pd.DataFrame:
    """The correlations as text columns: ρ [interval], p, τ [interval], p, per-trial ρ [interval], p_best."""
    rows = study.correlations
    if selected_only:
        rows = rows[rows["lambda"] == SELECTED]
    varying = [key for key in SETTING_KEYS if rows[key].nunique() > 1]

    def interval(prefix, label):
        return [f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" for v, lo, hi in
                zip(rows[label], rows[f"{prefix}_ci_low"], rows[f"{prefix}_ci_high"])]

    return pd.DataFrame({**{key: rows[key] for key in varying}, "EWC score": rows["ewc_score"],
                         "λ": rows["lambda"], "thresholding metric": rows["thresholding_metric"],
                         "Spearman ρ [CI]": interval("spearman", "spearman"),
                         "p (perm.)": rows["spearman_p"].map(lambda v: f"{v:.3g}"),
                         "Kendall τ [CI]": interval("kendall", "kendall"),
                         "p (τ)": rows["kendall_p"].map(lambda v: f"{v:.3g}"),
                         "per-trial ρ [CI]": interval("per_trial", "per_trial_spearman"),
                         "p_best": rows["p_best"].map(lambda v: f"{v:.2f}")}).reset_index(drop=True)


def measure_table(study: BridgeStudy, digits: int = 3) -> pd.DataFrame:
    """Per measure: λ chosen, every score as mean [interval]."""
    rows = study.measures
    columns = {"measure": rows["measure"], "λ": rows["lambda"].map(lambda v: f"{v:g}")}
    varying = {key: rows[key] for key in SETTING_KEYS if rows[key].nunique() > 1}
    for name in (*THRESHOLDING_METRICS, *EWC_SCORES):
        columns[name] = [("–" if not np.isfinite(m) else f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]")
                         for m, lo, hi in zip(rows[f"{name}_mean"], rows[f"{name}_ci_low"], rows[f"{name}_ci_high"])]
    return pd.DataFrame({**varying, **columns}).reset_index(drop=True)


def format_bridge_study(study: BridgeStudy) -> str:
    """The measures, the correlations at the selected λ and the best thresholding metric per EWC score, as text."""
    best = best_predictors(study.correlations)
    lines = [measure_table(study).to_string(index=False), "", correlation_table(study).to_string(index=False), ""]
    for _, r in best.iterrows():
        where = f"{r['ewc_score']} ({describe({k: r[k] for k in SETTING_KEYS[2:]})})"
        if not r["spearman"] > 0:
            lines.append(f"No thresholding metric ranks the measures as {where} does: every ρ ≤ 0 (the highest, "
                         f"{r['thresholding_metric']}, {r['spearman']:.2f}).")
            continue
        lines.append(f"Best predictor of {where}: {r['thresholding_metric']}, ρ = {r['spearman']:.2f} (permutation "
                     f"p = {r['spearman_p']:.2g}, best in {100 * r['p_best']:.0f}% of bootstrap resamples)")
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
    text = ["# Thresholding against EWC from the same importances", "",
            "Scores oriented so that higher = better; ρ > 0: the measures that threshold better protect task A "
            "better. λ chosen per measure on the held-out selection split (`selected`).", "",
            "## Measures", "", measure_table(study).to_markdown(index=False), "",
            "## Rank correlations at the selected λ", "", correlation_table(study).to_markdown(index=False), "",
            *(f"![bridge]({f.name})" for f in figures if f.suffix == ".png"), "",
            "## At every λ", "", every_lambda.to_markdown(index=False), ""]
    (out / REPORT_MARKDOWN).write_text("\n".join(text))
    return [*written, *figures, out / REPORT_MARKDOWN]


def run_bridge_study(results_dir, out_dir, tolerance: float = DEFAULT_TOLERANCE, confidence: float = 0.95,
                     num_resamples: int = 2000, seed: int = 0, formats=("png",), dpi: float = DPI) -> BridgeStudy:
    """Read the study in ``results_dir``, analyse it and save everything in ``out_dir``."""
    study = bridge_study(*load_bridge(results_dir), tolerance=tolerance, confidence=confidence,
                         num_resamples=num_resamples, seed=seed)
    if study.correlations.empty:
        raise ValueError(f"The study in {results_dir} has too few complete trials or measures for a rank "
                         "correlation (at least 2 trials and 3 measures).")
    save_bridge_study(study, out_dir, formats=formats, dpi=dpi)
    return study
