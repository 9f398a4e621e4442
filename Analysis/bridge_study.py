"""The bridge study's analysis: across measures, does the thresholding ranking of task A's importances predict how
well the same importances protect task A under EWC?

Reads a study's folder (``python -m Bridge``): ``thresholding.csv`` (``Schema.THRESHOLDING_COLUMNS``),
``sequential.csv`` and ``selection.csv`` (``Schema.SEQUENTIAL_COLUMNS``; the same EWC runs evaluated on the
reported validation split and on held-out training examples). Every trial judges the same importances of the same
model both ways, so each trial gives one thresholding score and one EWC score per measure. A trial that lacks
something (a study read while it runs, or stopped: ``bridge_inputs.incomplete_trials``) is left out with a warning
that names it and what it lacks; when no trial is complete the analysis refuses, saying why.

Scores, per trial and measure, each oriented so that higher = better:
- thresholding (``THRESHOLDING_METRICS``, per-trial metrics of ``Analysis.metrics``): ``auc_least`` = −normalised
  AUC removing the least important first; ``auc_most`` = +normalised AUC removing the most important first;
  ``tolerance_fraction`` = the fraction removed (least first) at which the loss first crosses the tolerance,
  interpolated between the measured points around the crossing (``Analysis.metrics.tolerance_crossing``);
- EWC (``EWC_SCORES``): ``forgetting_a`` = −(largest accuracy on task A before the last task − its final accuracy);
  ``average_accuracy`` = mean final accuracy over all tasks.

λ is chosen per measure on the selection split, never on the reported one: the λ with the highest mean final
average accuracy over trials on the held-out training examples (the smaller λ on a tie), among the λ values run
for that measure (they may differ between measures); the reported split then gives that λ's scores. Every fixed λ
run for every measure is reported too (all measures at that λ).

Agreement across the measures present in both parts (the baselines ``none`` and ``uniform`` have no thresholding
curve), ρ > 0: the measures that threshold better also protect task A better.
- The stated result: the per-trial Spearman ρ (one trial's scores, every measure at the λ chosen on all trials)
  summarised on Fisher's z scale, ``per_trial_spearman`` = tanh(mean z) with its t-interval and the one-sample
  t-test of z (``statistics.fisher_z_interval``: it covers the typical per-trial ρ, and holds its coverage with 5
  trials). The primary hypothesis is one row of it; the others are secondary (``Analysis.bridge_claims``: roles,
  families, Holm).
- Of the measures' mean scores over trials: Spearman's ρ and Kendall's τ-b, each with a two-sided permutation
  p-value over measures (``scipy.stats.permutation_test``, pairings, exact when the measures have at most 8!
  orders) and a percentile bootstrap interval resampling trials (both parts together: they are paired; λ chosen
  anew in each resample). The bootstrap interval does not hold its coverage with few trials (a resample of 5 holds
  about 3 distinct trials, whose means are noisier, so it sits low and can exclude the point estimate): it is a
  secondary column, labelled so.
``p_best``: the fraction of bootstrap resamples in which a thresholding metric has the highest ρ of the three with
that EWC score.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from Analysis.bridge_inputs import (SELECTION_CSV, SEQUENTIAL_CSV, THRESHOLDING_CSV, ewc_scores,  # noqa: F401
                                    incomplete_trials, load_bridge)
from Analysis.bridge_claims import Primary, label_tests, mark_lambda_edges
from Analysis.metrics import DEFAULT_TOLERANCE, trial_metrics
from Analysis.rank_correlation import kendall, spearman
from Analysis.statistics import confidence_interval, fisher_z_interval
from Schema import NO_PENALTY, UNIFORM_PENALTY
from Schema.lambda_choice import choose_lambdas  # the rule the runner extends λ by, too

# name -> (per-trial metric, order, sign that makes higher = better)
THRESHOLDING_METRICS = {"auc_least": ("normalized_auc", "least", -1.0), "auc_most": ("normalized_auc", "most", 1.0),
                        "tolerance_fraction": ("tolerance_crossing", "least", 1.0)}
EWC_SCORES = {"forgetting_a": -1.0, "average_accuracy": 1.0}  # name -> sign that makes higher = better
# The range of the scores that have one, which their confidence intervals respect (``statistics``).
BOUNDS = {"tolerance_fraction": (0.0, 1.0), "forgetting_a": (-1.0, 1.0), "average_accuracy": (0.0, 1.0)}
SETTING_KEYS = ("task", "epoch", "aggregation_level", "aggregation_method", "scope", "parameters", "replacement")
SELECTED = "selected"  # the ``lambda`` of rows at each measure's λ chosen on the selection split
EXACT_PERMUTATIONS = 40320  # 8!


@dataclass
class Agreement:
    """Rank agreement of one thresholding score with one EWC score (module docstring)."""

    spearman: float
    spearman_ci: tuple[float, float]
    spearman_p: float
    kendall: float
    kendall_ci: tuple[float, float]
    kendall_p: float
    per_trial: np.ndarray
    per_trial_summary: dict
    lambda_index: np.ndarray
    x: np.ndarray
    y: np.ndarray
    bootstrap: np.ndarray = field(repr=False)


def _at(ewc: np.ndarray, lambda_index: np.ndarray) -> np.ndarray:
    """[..., trial, measure] of ``ewc`` [..., trial, measure, λ] at each measure's λ ([..., measure])."""
    index = np.expand_dims(lambda_index, axis=(-3, -1)) if lambda_index.ndim > 1 else lambda_index[None, :, None]
    return np.take_along_axis(ewc, np.broadcast_to(index, ewc.shape[:-1] + (1,)), axis=-1)[..., 0]


def agreement(thresholding: np.ndarray, ewc: np.ndarray, selection: np.ndarray, confidence: float = 0.95,
              num_resamples: int = 2000, seed: int = 0) -> Agreement:
    """Agreement of ``thresholding`` [trial, measure] with ``ewc`` [trial, measure, λ] at the λ chosen on
    ``selection`` [trial, measure, λ] (all oriented higher = better; module docstring). For one fixed λ, give
    arrays with a λ axis of length 1."""
    lambda_index = choose_lambdas(selection)
    x, y = thresholding.mean(axis=0), _at(ewc, lambda_index).mean(axis=0)
    trials = np.random.default_rng(seed).integers(0, len(thresholding), (num_resamples, len(thresholding)))
    chosen = choose_lambdas(selection[trials])
    xs, ys = thresholding[trials].mean(axis=1), _at(ewc[trials], chosen).mean(axis=1)
    resampled = np.stack([spearman(xs, ys), kendall(xs, ys)], axis=1)
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    ci = [tuple(np.quantile(values[np.isfinite(values)], tails)) if np.isfinite(values).sum() > 1
          else (np.nan, np.nan) for values in resampled.T]
    p_values = [_permutation_p(x, y, statistic, seed) for statistic in (spearman, kendall)]
    per_trial = spearman(thresholding, _at(ewc, lambda_index))
    summary = fisher_z_interval(per_trial, confidence, num_items=thresholding.shape[1])
    return Agreement(float(spearman(x, y)), ci[0], p_values[0], float(kendall(x, y)), ci[1], p_values[1],
                     per_trial, summary, lambda_index, x, y, resampled[:, 0])


def _permutation_p(x, y, statistic, seed: int) -> float:
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    result = stats.permutation_test((x, y), statistic, permutation_type="pairings", vectorized=True,
                                    n_resamples=EXACT_PERMUTATIONS, alternative="two-sided", rng=seed)
    return float(result.pvalue)


# -- from the study's CSVs ------------------------------------------------------------------------------------
@dataclass
class BridgeStudy:
    """``correlations``: one row per (setting, thresholding metric, EWC score, λ), its ``role`` and p-values raw
    and Holm-adjusted (``bridge_claims``); ``primary``: the primary hypothesis; ``per_trial``: the per-trial ρ;
    ``measures``: per setting and measure, mean scores with intervals at the selected λ (baselines included);
    ``scores``: per trial and measure, every score (unoriented) at the selected λ and at every λ."""

    correlations: pd.DataFrame
    per_trial: pd.DataFrame
    measures: pd.DataFrame
    scores: pd.DataFrame
    options: dict
    primary: Primary = field(default_factory=Primary)


def _ewc_cube(metrics: pd.DataFrame, score: str, trials, measures, lambdas) -> np.ndarray:
    table = metrics.pivot_table(index="trial", columns=["measure", "lambda"], values=score, aggfunc="mean")
    columns = pd.MultiIndex.from_product([measures, lambdas])
    return table.reindex(index=trials, columns=columns).to_numpy(float).reshape(len(trials), len(measures), -1)


def bridge_study(thresholding: pd.DataFrame, sequential: pd.DataFrame, selection: pd.DataFrame, *,
                 tolerance: float = DEFAULT_TOLERANCE, confidence: float = 0.95, num_resamples: int = 2000,
                 seed: int = 0, primary: Primary | None = None) -> BridgeStudy:
    """Every agreement of the study (module docstring), per thresholding setting (``SETTING_KEYS``), the row of
    ``primary`` (None: the default hypothesis) marked as the primary test."""
    primary = Primary() if primary is None else primary
    curves = trial_metrics(thresholding, tolerance=tolerance)
    reported, held_out = ewc_scores(sequential), ewc_scores(selection)
    lacking = incomplete_trials(curves, {SEQUENTIAL_CSV: reported, SELECTION_CSV: held_out})
    every_trial = sorted(set(curves["trial"]) | set(reported["trial"]) | set(held_out["trial"]))
    trials = [trial for trial in every_trial if trial not in lacking]
    if lacking:
        described = "; ".join(f"trial {trial}: {', '.join(what)}" for trial, what in sorted(lacking.items()))
        if not trials:
            raise ValueError(f"No trial of the bridge study is complete, so there is nothing to analyse: "
                             f"{described}. Resume the study (python -m Bridge with the same configuration) to "
                             "complete its trials.")
        warnings.warn(f"{len(lacking)} of the study's {len(every_trial)} trials are incomplete and left out "
                      f"({described}); the {len(trials)} complete trials {trials} are analysed.", stacklevel=2)
    lambdas = sorted(v for v in reported["lambda"].unique() if v > 0)
    measures = sorted(set(curves["measure"]) & set(reported["measure"]))
    cubes = {score: _ewc_cube(reported, score, trials, measures, lambdas) for score in EWC_SCORES}
    chooser = _ewc_cube(held_out, "average_accuracy", trials, measures, lambdas)
    run = ~np.isnan(chooser).all(axis=0)  # [measure, λ]: the λ values run for each measure
    complete = (~(np.isnan(chooser) & run).any(axis=(1, 2)) & ~(np.isnan(cubes["forgetting_a"]) & run).any(axis=(1, 2)))
    common = [k for k in range(len(lambdas)) if run[:, k].all()]
    rows, per_trial, summaries, scores = [], [], [], []
    for setting, group in curves.groupby(list(SETTING_KEYS), sort=True):
        context = dict(zip(SETTING_KEYS, setting))
        tables = {}
        for name, (metric, order, sign) in THRESHOLDING_METRICS.items():
            table = group[group["order"] == order].pivot_table(index="trial", columns="measure", values=metric)
            if not table.empty:
                tables[name] = sign * table.reindex(index=trials, columns=measures).to_numpy(float)
        usable = complete & np.all([~np.isnan(t).any(axis=1) for t in tables.values()], axis=0)
        if usable.sum() < len(trials):
            warnings.warn(f"{len(trials) - usable.sum()} trial(s) lack a score of some measure in {context}; "
                          "they are left out.", stacklevel=2)
        if usable.sum() < 2 or len(measures) < 3:
            warnings.warn(f"{context}: {usable.sum()} complete trials and {len(measures)} measures; at least 2 and "
                          "3 are needed.", stacklevel=2)
            continue
        for score, sign in EWC_SCORES.items():
            cube, choice = sign * cubes[score][usable], chooser[usable]
            choices = [(SELECTED, cube, choice)] + [(v, cube[:, :, [k]], choice[:, :, [k]])
                                                    for k, v in enumerate(lambdas) if k in common]
            for value, ewc, sel in choices:
                found = {name: agreement(t[usable], ewc, sel, confidence, num_resamples, seed)
                         for name, t in tables.items()}
                best = _best_counts(np.stack([a.bootstrap for a in found.values()]))
                for position, (name, a) in enumerate(found.items()):
                    rows.append({**context, "thresholding_metric": name, "ewc_score": score, "lambda": value,
                                 "num_measures": len(measures), "num_trials": int(usable.sum()),
                                 "per_trial_spearman": a.per_trial_summary["estimate"],
                                 "per_trial_ci_low": a.per_trial_summary["ci_low"],
                                 "per_trial_ci_high": a.per_trial_summary["ci_high"],
                                 "per_trial_p_raw": a.per_trial_summary["p_value"],
                                 "spearman": a.spearman, "spearman_bootstrap_ci_low": a.spearman_ci[0],
                                 "spearman_bootstrap_ci_high": a.spearman_ci[1], "spearman_p_raw": a.spearman_p,
                                 "kendall": a.kendall, "kendall_bootstrap_ci_low": a.kendall_ci[0],
                                 "kendall_bootstrap_ci_high": a.kendall_ci[1], "kendall_p_raw": a.kendall_p,
                                 "p_best": best[position]})
                    if value == SELECTED:
                        per_trial += [{**context, "thresholding_metric": name, "ewc_score": score,
                                       "trial": t, "spearman": r}
                                      for t, r in zip(np.asarray(trials)[usable], a.per_trial)]
        frame = _scores(context, tables, cubes, usable, trials, measures, lambdas, choose_lambdas(chooser[usable]))
        scores.append(frame)
        summaries.append(mark_lambda_edges(_summaries(frame, reported, held_out, confidence),
                                           reported[reported["trial"].isin(np.asarray(trials)[usable])]))
    options = {"tolerance": tolerance, "confidence": confidence, "num_resamples": num_resamples, "seed": seed,
               "lambdas": lambdas, "measures": measures, "incomplete_trials": sorted(lacking)}
    correlations = label_tests(pd.DataFrame(rows), primary, SETTING_KEYS, SELECTED) if rows else pd.DataFrame()
    return BridgeStudy(correlations, pd.DataFrame(per_trial),
                       pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame(),
                       pd.concat(scores, ignore_index=True) if scores else pd.DataFrame(), options, primary)


def _best_counts(resampled: np.ndarray) -> np.ndarray:
    """Per row of ``resampled`` [metric, resample], the share of resamples (where some ρ is defined; an undefined ρ
    is never the largest) in which it is the largest, a tie sharing the resample equally."""
    values = np.where(np.isfinite(resampled), resampled, -np.inf)[:, np.isfinite(resampled).any(axis=0)]
    if values.shape[1] == 0:
        return np.full(len(resampled), np.nan)
    best = np.isclose(values, values.max(axis=0), rtol=0, atol=1e-12)
    return (best / best.sum(axis=0)).mean(axis=1)


def _scores(context, tables, cubes, usable, trials, measures, lambdas, lambda_index) -> pd.DataFrame:
    """Per trial and measure, unoriented: every thresholding metric, and the EWC scores at the selected λ."""
    used = np.asarray(trials)[usable]
    frame = pd.DataFrame({**{key: [value] * (len(used) * len(measures)) for key, value in context.items()},
                          "trial": np.repeat(used, len(measures)), "measure": np.tile(measures, len(used)),
                          "lambda": np.tile(np.asarray(lambdas, float)[lambda_index], len(used))})
    for name, table in tables.items():
        frame[name] = (THRESHOLDING_METRICS[name][2] * table[usable]).ravel()
    for score in EWC_SCORES:
        frame[score] = _at(cubes[score][usable], lambda_index).ravel()
    return frame


def _summaries(frame: pd.DataFrame, reported: pd.DataFrame, held_out: pd.DataFrame,
               confidence: float) -> pd.DataFrame:
    """Per measure (and the EWC baselines, λ chosen on the selection split as for the measures): the mean of
    every score over the trials with its ``confidence`` t-interval."""
    context = {key: frame[key].iloc[0] for key in SETTING_KEYS}
    trials = sorted(frame["trial"].unique())
    baselines = []
    for measure in (NO_PENALTY, UNIFORM_PENALTY):
        chooser = held_out[(held_out["measure"] == measure) & held_out["trial"].isin(trials)]
        if chooser.empty:
            continue
        value = chooser.groupby("lambda")["average_accuracy"].mean().idxmax()
        runs = reported[(reported["measure"] == measure) & (reported["lambda"] == value)
                        & reported["trial"].isin(trials)]
        baselines.append(runs.assign(**context, **{"lambda": value}))
    frame = pd.concat([frame, *baselines], ignore_index=True)
    rows = []
    for measure, group in frame.groupby("measure", sort=False):
        row = {**context, "measure": measure, "lambda": float(group["lambda"].iloc[0]),
               "num_trials": int(group["trial"].nunique())}
        for name in (*THRESHOLDING_METRICS, *EWC_SCORES):
            values = group[name].to_numpy(float) if name in group else np.array([np.nan])
            low, high = (confidence_interval(values, confidence, bounds=BOUNDS.get(name))
                         if np.isfinite(values).sum() > 1 else (np.nan, np.nan))
            row.update({f"{name}_mean": float(np.nanmean(values)) if np.isfinite(values).any() else np.nan,
                        f"{name}_ci_low": low, f"{name}_ci_high": high})
        rows.append(row)
    return pd.DataFrame(rows)
