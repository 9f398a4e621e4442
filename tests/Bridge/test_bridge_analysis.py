"""The study's analysis against hand computations on a made-up table of 3 trials and 4 measures."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from scipy import stats

from Analysis.bridge_claims import Primary, label_tests, lambda_edge_text
from Analysis.bridge_study import (EWC_SCORES, SELECTED, SETTING_KEYS, THRESHOLDING_METRICS, agreement, bridge_study,
                                   choose_lambdas)
from Analysis.bridge_study_report import (MARKERS, bridge_figure, correlation_table, format_bridge_study, run_bridge_study,
                                          save_bridge_study)
from Analysis.style import measure_label
from Schema import BRIDGE_EWC_SCORES, BRIDGE_THRESHOLDING_METRICS, SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS

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
    assert selected["spearman_p_raw"] == pytest.approx(expected.spearman_p)
    assert selected["per_trial_spearman"] == pytest.approx(expected.per_trial_summary["estimate"])
    # The AUCs removing the most important first were made so that, oriented (higher = better), they are the table.
    most = study.correlations.query("thresholding_metric == 'auc_most' and ewc_score == 'forgetting_a'")
    assert most[most["lambda"] == SELECTED].iloc[0]["spearman"] == pytest.approx(expected.spearman)
    chosen = study.measures.set_index("measure")["lambda"]
    assert chosen["fisher"] == 1.0 and chosen["mas"] == 0.1
    written = save_bridge_study(study, tmp_path)
    assert any(path.suffix == ".png" for path in written)
    assert "auc_least" in format_bridge_study(study)


# -- the primary test, the families, λ at an edge, the figure -------------------------------------------------
def test_holm_within_each_family_is_the_hand_computation():
    rows = pd.DataFrame({"aggregation_level": ["weight"] * 4, "thresholding_metric": ["auc_least", "auc_most",
                                                                                      "auc_least", "auc_least"],
                         "ewc_score": ["forgetting_a", "forgetting_a", "average_accuracy", "forgetting_a"],
                         "lambda": [SELECTED, SELECTED, SELECTED, 1.0],
                         "per_trial_p_raw": [0.01, 0.02, 0.04, 0.03], "spearman_p_raw": [0.01, 0.02, 0.04, 0.03],
                         "kendall_p_raw": [0.5, np.nan, 0.2, 0.1]})
    found = label_tests(rows, Primary(), ["aggregation_level"], SELECTED)
    assert found["role"].tolist() == ["primary", "secondary", "secondary", "secondary"]
    # The primary is its own family: its p unadjusted. Secondary: 0.02, 0.04, 0.03 sorted 0.02, 0.03, 0.04 ->
    # 3 × 0.02 = 0.06, max(0.06, 2 × 0.03) = 0.06, max(0.06, 1 × 0.04) = 0.06.
    assert found["per_trial_p_holm"].tolist() == pytest.approx([0.01, 0.06, 0.06, 0.06])
    # The permutation family holds every row: 4 × 0.01, max(., 3 × 0.02), max(., 2 × 0.03), max(., 0.04).
    assert found["spearman_p_holm"].tolist() == pytest.approx([0.04, 0.06, 0.06, 0.06])
    # A NaN p is left out of its family (m = 3): 3 × 0.1, 2 × 0.2, 1 × 0.5.
    assert found["kendall_p_holm"].tolist()[0::2] == pytest.approx([0.5, 0.4]) and np.isnan(found["kendall_p_holm"][1])
    # Two settings at the primary's level (say two scopes): the first is the primary, and the analysis says so.
    twice = pd.concat([rows.iloc[:1], rows], ignore_index=True)
    with pytest.warns(UserWarning, match=r"2 settings of this study share the primary hypothesis's level \(weight\)"):
        assert label_tests(twice, Primary(), ["aggregation_level"], SELECTED)["role"].tolist()[:2] == [
            "primary", "secondary"]
    with pytest.raises(ValueError, match=r"levels \['weight'\].*--bridge-primary"):
        label_tests(rows, Primary(aggregation_level="unit"), ["aggregation_level"], SELECTED)
    with pytest.raises(ValueError, match=r"'auc'.*'auc_least', 'auc_most', 'tolerance_fraction'"):
        Primary(thresholding_metric="auc")


def test_the_analysis_knows_the_names_the_configuration_checks():
    assert tuple(THRESHOLDING_METRICS) == BRIDGE_THRESHOLDING_METRICS and tuple(EWC_SCORES) == BRIDGE_EWC_SCORES


def test_the_report_leads_with_the_declared_primary_test(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    for frame, name in zip(_results(), ("thresholding", "sequential", "selection")):
        frame.to_csv(folder / f"{name}.csv", index=False)
    (folder / "thresholding.json").write_text(json.dumps({"num_tasks": 2, "primary_thresholding_metric": "auc_most",
                                                          "primary_ewc_score": "average_accuracy",
                                                          "primary_aggregation_level": "weight"}))
    study = run_bridge_study(folder, tmp_path / "out", num_resamples=100)
    primary = study.correlations[study.correlations["role"] == "primary"]
    assert len(primary) == 1 and primary[["thresholding_metric", "ewc_score", "lambda"]].iloc[0].tolist() == [
        "auc_most", "average_accuracy", SELECTED]
    per_trial = study.per_trial.query("thresholding_metric == 'auc_most' and ewc_score == 'average_accuracy'")
    z = np.arctanh(np.clip(per_trial["spearman"].to_numpy(), -0.9, 0.9))  # ρ = ±1 over 4 measures: ±(1 - 6 / 60)
    assert primary["per_trial_spearman"].iloc[0] == pytest.approx(np.tanh(z.mean()))
    assert primary["per_trial_p_raw"].iloc[0] == pytest.approx(stats.ttest_1samp(z, 0).pvalue)
    text = format_bridge_study(study)
    assert text.startswith("Primary test: auc_most at weight level against average_accuracy")
    assert f"the hypothesis is declared in {folder / 'thresholding.json'}." in text.splitlines()[0]
    assert f"p = {primary['per_trial_p_raw'].iloc[0]:.2g} (one-sample t-test of z; the one primary test" in text
    markdown = (tmp_path / "out" / "bridge_study.md").read_text()
    assert (markdown.index("## Primary test") < markdown.index("## Measures")
            < markdown.index("## Rank correlations at the selected λ: the primary, then the secondary"))
    table = correlation_table(study)
    assert table["role"].iloc[0] == "primary" and (table["role"].iloc[1:] == "secondary").all()
    p_columns = [column for column in table.columns if column.startswith("p (")]
    assert p_columns and all(column.endswith(("raw)", "Holm)")) for column in p_columns)
    # Another primary at analysis, named as not the declared one; a JSON without the fields: the default.
    other = run_bridge_study(folder, tmp_path / "other", num_resamples=100,
                             primary={"primary_thresholding_metric": "tolerance_fraction"})
    assert other.primary.thresholding_metric == "tolerance_fraction" and other.primary.ewc_score == "average_accuracy"
    assert "given at analysis, not the declared one (auc_most at weight level" in format_bridge_study(other)
    (folder / "thresholding.json").write_text(json.dumps({"num_tasks": 2}))
    old = run_bridge_study(folder, tmp_path / "old", num_resamples=100)
    assert (old.primary.thresholding_metric, old.primary.ewc_score) == ("auc_least", "forgetting_a")
    assert "was written before a study declared one" in old.primary.source


def test_a_lambda_at_an_edge_of_its_own_grid_is_marked(tmp_path):
    """One measure's grid extended (mas also at λ 10, best there on the selection split) and one measure best
    inside its grid (si at 0.3, run for it alone): the others pick 0.1 or 1 of their grid 0.1–1."""
    thresholding, sequential, selection = _results()
    extra = []
    for measure, value, final in (("mas", 10.0, 0.95), ("si", 0.3, 0.95)):
        for frame in (sequential, selection):
            rows = frame[(frame["measure"] == measure) & (frame["lambda"] == 0.1)].copy()
            rows["lambda"] = value
            rows.loc[(rows["trained_task"] == 1) & (rows["evaluated_task"] == 0), "accuracy"] = final
            extra.append((frame is sequential, rows))
    sequential = pd.concat([sequential, *(rows for reported, rows in extra if reported)], ignore_index=True)
    selection = pd.concat([selection, *(rows for reported, rows in extra if not reported)], ignore_index=True)
    study = bridge_study(thresholding, sequential, selection, num_resamples=100)
    marked = study.measures.set_index("measure")
    assert marked.loc["mas", "lambda"] == 10.0 and marked.loc["mas", "lambda_at_edge"] == "largest"
    assert marked.loc["mas", "lambda_grid"] == "0.1–10"
    assert marked.loc["si", "lambda"] == 0.3 and marked.loc["si", "lambda_at_edge"] == ""
    assert marked.loc["fisher", "lambda_at_edge"] == "largest" and marked.loc["random", "lambda_at_edge"] == "smallest"
    # Fixed-λ rows only for the λ values every measure ran.
    assert set(study.correlations["lambda"]) == {SELECTED, 0.1, 1.0}
    edges = lambda_edge_text(study.measures)
    assert edges.startswith("λ at an edge of its grid") and "possibly judged at the wrong strength" in edges
    assert "mas (λ = 10, the largest of 0.1–10)" in edges and "si (" not in edges
    assert edges in format_bridge_study(study)


def test_the_figure_names_every_measure_once_in_a_legend_and_no_label_overlaps(tmp_path):
    study = bridge_study(*_results(), num_resamples=100)
    for measure in ("fisher", "mas"):  # two measures at the same point, as fisher and fisher@sampled nearly are
        for name in ("auc_least", "forgetting_a"):
            study.measures.loc[study.measures["measure"] == measure, [f"{name}_{part}" for part in (
                "mean", "ci_low", "ci_high")]] = (0.5, 0.45, 0.55)
    context = {key: study.measures[key].iloc[0] for key in SETTING_KEYS}
    figure = bridge_figure(study, context, study.measures)
    assert all(not ax.texts for ax in figure.axes)  # no name written on a panel
    (legend,) = figure.legends
    labels = [text.get_text() for text in legend.get_texts()]
    measures = sorted(study.measures["measure"])
    assert len(labels) == len(measures) == len(set(labels))
    assert {label.split(",")[0].split(" (")[0] for label in labels} == {measure_label(m) for m in measures}
    styles = {(line.get_marker(), line.get_color()) for ax in figure.axes[:1] for line in ax.lines
              if line.get_marker() in MARKERS}  # the points, not the error bars' caps
    assert len(styles) == len([m for m in measures if m not in ("none", "uniform")])  # each its own marker
    FigureCanvasAgg(figure).draw()
    renderer = figure.canvas.get_renderer()
    texts = [*legend.get_texts(), legend.get_title(), *figure.texts]
    for ax in figure.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
    boxes = [text.get_window_extent(renderer) for text in texts if text.get_text()]
    overlapping = [(texts[i].get_text(), texts[j].get_text()) for i, j in itertools.combinations(range(len(boxes)), 2)
                   if boxes[i].overlaps(boxes[j])]
    assert not overlapping


def test_the_command_line_reads_the_declared_primary_and_takes_another(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    for frame, name in zip(_results(), ("thresholding", "sequential", "selection")):
        frame.to_csv(folder / f"{name}.csv", index=False)
    script = Path(__file__).resolve().parents[2] / "Data Analysis.py"
    completed = subprocess.run([sys.executable, str(script), "--bridge", str(folder), "--out", str(tmp_path / "out"),
                                "--bridge-resamples", "50", "--bridge-primary", "tolerance_fraction", "forgetting_a",
                                "weight"], capture_output=True, text=True, timeout=300, cwd=script.parent)
    assert completed.returncode == 0, completed.stderr
    first = completed.stdout.splitlines()[0]
    assert first.startswith("Primary test: tolerance_fraction at weight level against forgetting_a")
    assert "the hypothesis is given at analysis, not the declared one (auc_least at weight level against " in first
    wrong = subprocess.run([sys.executable, str(script), "--bridge", str(folder), "--out", str(tmp_path / "out"),
                            "--bridge-primary", "auc", "forgetting_a", "weight"], capture_output=True, text=True,
                           timeout=300, cwd=script.parent)
    assert wrong.returncode == 2 and "'auc'; the analysis computes ['auc_least'" in wrong.stderr
