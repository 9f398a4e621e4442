"""The study's analysis against hand computations on a made-up table of 3 trials and 4 measures."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from Analysis.bridge_study import SELECTED, agreement, bridge_study, choose_lambdas
from Analysis.bridge_study_report import format_bridge_study, save_bridge_study
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS

# Thresholding scores (higher = better), trials x measures: means 4/3, 2, 3, 11/3 -> ranks 1, 2, 3, 4.
THRESHOLDING = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0], [1.0, 3.0, 2.0, 4.0]])
# EWC scores (higher = better), trials x measures x λ. On the selection split measure 0 is best at the second λ,
# the others at the first; on the reported split measure 0 would be best at the first.
SELECTION = np.array([[[0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]]] * 3)
EWC = np.stack([np.array([[0.9, 0.1], [0.4, 0.0], [0.2, 0.0], [0.5, 0.0]]) + shift for shift in (-0.05, 0.0, 0.05)])
# At the chosen λ the EWC means are 0.1, 0.4, 0.2, 0.5 -> ranks 1, 3, 2, 4.


def test_lambda_is_chosen_on_the_selection_split():
    assert choose_lambdas(SELECTION).tolist() == [1, 0, 0, 0]
    assert choose_lambdas(EWC).tolist() == [0, 0, 0, 0]  # what the reported split would have chosen


@pytest.mark.smoke
def test_rank_correlations_match_a_hand_computation():
    found = agreement(THRESHOLDING, EWC, SELECTION, num_resamples=500, seed=1)
    assert np.allclose(found.y, [0.1, 0.4, 0.2, 0.5])
    # Spearman: rank differences 0, -1, 1, 0 -> 1 - 6 * 2 / (4 * 15).
    assert found.spearman == pytest.approx(1 - 6 * 2 / (4 * 15))
    # Kendall: of the 6 pairs only (measure 1, measure 2) is discordant -> (5 - 1) / 6.
    assert found.kendall == pytest.approx(4 / 6)
    # Permutation p over the 24 orders of the 4 measures: |rho| >= 0.8 in 8 of them.
    ranks_y = stats.rankdata(found.y)
    rhos = [1 - 6 * np.sum((np.arange(1, 5) - ranks_y[list(p)]) ** 2) / 60 for p in itertools.permutations(range(4))]
    assert found.spearman_p == pytest.approx(np.mean(np.abs(rhos) >= 0.8 - 1e-12))
    assert found.spearman_p == pytest.approx(1 / 3)
    taus = [stats.kendalltau(np.arange(4), found.y[list(p)]).statistic for p in itertools.permutations(range(4))]
    assert found.kendall_p == pytest.approx(np.mean(np.abs(taus) >= 4 / 6 - 1e-12))
    # Per trial: each trial's scores, at the λ chosen on all trials.
    per_trial = [stats.spearmanr(t, e[np.arange(4), [1, 0, 0, 0]]).statistic for t, e in zip(THRESHOLDING, EWC)]
    assert np.allclose(found.per_trial, per_trial)
    assert -1 <= found.spearman_ci[0] <= found.spearman_ci[1] <= 1
    assert np.all(np.abs(found.bootstrap[np.isfinite(found.bootstrap)]) <= 1)


def _results(trials: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """CSV-shaped rows whose scores are the made-up table: normalised AUC (least first) = v / 4 for a loss v at
    half removed (L0 = 1, Lc = 3); forgetting on task A = 1 − final accuracy on task A (accuracy 1 after it)."""
    measures = ["fisher", "mas", "random", "si"]
    thresholding, sequential, selection = [], [], []
    for trial, measure in itertools.product(range(trials), range(4)):
        common = {"trial": trial, "seed": trial, "task": "digits", "epoch": 3, "measure": measures[measure],
                  "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer", "parameters": "all",
                  "replacement": "noise", "loss": np.nan, "accuracy": np.nan, "val_accuracy": 0.5,
                  "chance_val_loss": 3.0}
        for order, sign in (("least", -1.0), ("most", 1.0)):
            half = 4 * THRESHOLDING[trial, measure] * sign  # normalised AUC = half / 4 = sign * score
            for threshold, loss in ((0.0, 1.0), (0.5, half), (1.0, 3.0)):
                thresholding.append({**common, "order": order, "threshold": threshold, "fraction_removed": threshold,
                                     "val_loss": loss})
        for index, value in enumerate((0.1, 1.0)):
            for rows, scores in ((sequential, EWC), (selection, SELECTION)):
                base = {"trial": trial, "seed": trial, "task": "digits", "sequence": "permuted",
                        "measure": measures[measure], "lambda": value, "loss": 0.0, "penalty": 0.0}
                final = scores[trial, measure, index]  # forgetting = 1 - final: score = -forgetting = final - 1
                rows += [{**base, "trained_task": i, "evaluated_task": j, "accuracy": a}
                         for i, j, a in ((0, 0, 1.0), (1, 0, final), (1, 1, 1.0))]
    return (pd.DataFrame(thresholding).reindex(columns=list(THRESHOLDING_COLUMNS)),
            pd.DataFrame(sequential)[list(SEQUENTIAL_COLUMNS)],
            pd.DataFrame(selection)[list(SEQUENTIAL_COLUMNS)])


def test_the_study_orients_and_joins_the_csvs_as_the_hand_table(tmp_path):
    study = bridge_study(*_results(), num_resamples=200)
    row = study.correlations.query("thresholding_metric == 'auc_least' and ewc_score == 'forgetting_a'")
    selected = row[row["lambda"] == SELECTED].iloc[0]
    expected = agreement(THRESHOLDING, EWC - 1, SELECTION - 1, num_resamples=200)  # forgetting = 1 − final
    assert selected["spearman"] == pytest.approx(expected.spearman)
    assert selected["kendall"] == pytest.approx(expected.kendall)
    assert selected["spearman_p"] == pytest.approx(expected.spearman_p)
    # The AUCs removing the most important first were made so that, oriented (higher = better), they are the table.
    most = study.correlations.query("thresholding_metric == 'auc_most' and ewc_score == 'forgetting_a'")
    assert most[most["lambda"] == SELECTED].iloc[0]["spearman"] == pytest.approx(expected.spearman)
    chosen = study.measures.set_index("measure")["lambda"]
    assert chosen["fisher"] == 1.0 and chosen["mas"] == 0.1
    written = save_bridge_study(study, tmp_path)
    assert any(path.suffix == ".png" for path in written)
    assert "auc_least" in format_bridge_study(study)
