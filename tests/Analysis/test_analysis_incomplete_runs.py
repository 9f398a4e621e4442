"""A sequential run that lacks rows (cut short, or still running) is reported and left out of the metrics, with the
number of tasks taken from the configuration beside the CSV or else from the file; the bridge study names its
incomplete trials and analyses the complete ones, or refuses when none is complete."""

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from Analysis.bridge_study import bridge_study, load_bridge
from Analysis.loading import load_sequential
from Analysis.sequential import analyze_sequential
from Analysis.sequential_metrics import mean_accuracy_matrices, run_metrics
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS

# Accuracy after each task of a two-task run: R[0, 0], R[1, 0], R[1, 1].
FULL = {(0, 0): 0.9, (1, 0): 0.6, (1, 1): 0.8}


def _rows(trial, measure, value, accuracies, seed=None):
    return [{"trial": trial, "seed": trial if seed is None else seed, "task": "digits", "sequence": "permuted",
             "measure": measure, "lambda": value, "trained_task": i, "evaluated_task": j, "accuracy": a,
             "loss": 1 - a, "penalty": 0.0} for (i, j), a in accuracies.items()]


def _write(path, rows, num_tasks=None):
    pd.DataFrame(rows)[list(SEQUENTIAL_COLUMNS)].to_csv(path, index=False)
    if num_tasks is not None:
        path.with_suffix(".json").write_text(json.dumps({"num_tasks": num_tasks, "sequence": "permuted"}))
    return path


def test_a_file_with_only_the_task_a_rows_of_a_run_is_not_a_complete_run(tmp_path):
    path = _write(tmp_path / "seq.csv", _rows(0, "none", 0.0, {(0, 0): 0.9}), num_tasks=2)
    metrics = run_metrics(load_sequential(path))
    assert metrics["complete"].tolist() == [False]
    assert metrics[["num_tasks", "num_pairs"]].values.tolist() == [[2, 1]]
    assert np.isnan(metrics["average_accuracy"].iloc[0])  # not R[0, 0] = 0.9 of a "1 x 1 matrix"
    with pytest.warns(UserWarning, match=r"trial 0, measure none, λ 0 of .*seq\.csv: 1 of its 3 rows for 2 tasks "
                                         r"\(from the configuration .*seq\.json\)"), \
            pytest.raises(ValueError, match="No complete run"):
        analyze_sequential(load_sequential(path))


def test_an_incomplete_run_is_left_out_of_every_metric_and_matrix(tmp_path):
    rows = _rows(0, "ewc", 1.0, FULL) + _rows(1, "ewc", 1.0, {(0, 0): 0.2})  # trial 1 stopped after task A
    path = _write(tmp_path / "seq.csv", rows, num_tasks=2)
    with pytest.warns(UserWarning, match=r"1 sequential run\(s\) lack rows .* trial 1, measure ewc, λ 1"):
        analysis = analyze_sequential(load_sequential(path))
    assert analysis.metrics["trial"].tolist() == [0]
    assert analysis.metrics["average_accuracy"].iloc[0] == pytest.approx((0.6 + 0.8) / 2)
    assert analysis.summary["num_trials"].tolist() == [1]
    matrix = mean_accuracy_matrices(load_sequential(path))[("digits", "permuted", "ewc", 1.0)]
    assert matrix[0, 0] == pytest.approx(0.9)  # trial 1's 0.2 is never averaged in


def test_without_a_configuration_the_number_of_tasks_is_the_files_largest_task(tmp_path):
    rows = _rows(0, "ewc", 1.0, FULL) + _rows(1, "ewc", 1.0, {(0, 0): 0.2})
    metrics = run_metrics(load_sequential(_write(tmp_path / "seq.csv", rows)))
    assert metrics["complete"].tolist() == [True, False]
    assert set(metrics["num_tasks_from"]) == {f"{tmp_path / 'seq.csv'}'s largest task index"}
    # Only task-A rows and no configuration: a sequence has at least two tasks.
    alone = run_metrics(load_sequential(_write(tmp_path / "alone.csv", _rows(0, "none", 0.0, {(0, 0): 0.9}))))
    assert alone[["num_tasks", "complete"]].values.tolist() == [[2, False]]
    assert "at least 2 tasks" in alone["num_tasks_from"].iloc[0]


def test_the_configured_number_of_tasks_wins_over_the_file(tmp_path):
    # Three tasks configured, two measured so far: a run with all of two tasks' rows is still incomplete.
    metrics = run_metrics(load_sequential(_write(tmp_path / "seq.csv", _rows(0, "ewc", 1.0, FULL), num_tasks=3)))
    assert metrics["complete"].tolist() == [False]
    assert metrics[["num_tasks", "num_pairs"]].values.tolist() == [[3, 3]]


# -- the bridge study ------------------------------------------------------------------------------------------
MEASURES = ("fisher", "magnitude", "random", "si")
SCORE = {"fisher": 0.1, "magnitude": 0.2, "random": 0.4, "si": 0.3}  # loss at half removed, above L0 = 0.5


def _study(folder, num_trials=3, cut=None):
    """A bridge study of ``num_trials`` trials written by hand; ``cut``: trial -> how it was cut short."""
    folder.mkdir()
    thresholding, sequential, selection = [], [], []
    for trial, measure in itertools.product(range(num_trials), MEASURES):
        loss = 0.5 + SCORE[measure] + 0.01 * trial
        for order, threshold in itertools.product(("least", "most"), (0.0, 0.5, 1.0)):
            thresholding.append({"trial": trial, "seed": trial, "task": "digits", "epoch": 1, "measure": measure,
                                 "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer",
                                 "order": order, "parameters": "all", "replacement": "noise",
                                 "threshold": threshold, "fraction_removed": threshold, "loss": np.nan,
                                 "accuracy": np.nan, "val_accuracy": 0.9, "chance_val_loss": 2.3,
                                 "val_loss": {0.0: 0.5, 0.5: loss, 1.0: 2.3}[threshold]})
        final = {**FULL, (1, 0): 0.9 - SCORE[measure]}
        if cut and cut.get(trial) == "task A only" and measure == "si":
            final = {(0, 0): 0.9}
        sequential += _rows(trial, measure, 1.0, final)
        if not (cut and cut.get(trial) == "no selection runs"):
            selection += _rows(trial, measure, 1.0, final)
    thresholding = pd.DataFrame(thresholding).reindex(columns=list(THRESHOLDING_COLUMNS))
    thresholding.to_csv(folder / "thresholding.csv", index=False)
    for name, rows in (("sequential", sequential), ("selection", selection)):
        _write(folder / f"{name}.csv", rows, num_tasks=2)
    return folder


def test_the_bridge_study_names_a_trial_cut_short_and_analyses_the_complete_ones(tmp_path):
    folder = _study(tmp_path / "study", cut={2: "task A only"})
    with pytest.warns(UserWarning, match=r"1 of the study's 3 trials are incomplete .*trial 2: 1 run\(s\) in "
                                         r"sequential\.csv cut short \(si at λ 1: 1 of 3 rows each, 2 tasks from "
                                         r"the configuration .*sequential\.json\).*complete trials \[0, 1\]"):
        study = bridge_study(*load_bridge(folder), num_resamples=50)
    assert set(study.correlations["num_trials"]) == {2}
    assert set(study.scores["trial"]) == {0, 1}
    assert study.options["incomplete_trials"] == [2]
    chosen = study.correlations.query("thresholding_metric == 'auc_least' and ewc_score == 'forgetting_a' "
                                      "and `lambda` == 'selected'")
    assert chosen["spearman"].iloc[0] == pytest.approx(1.0)  # lower AUC and lower forgetting go together


def test_the_bridge_study_names_missing_runs_and_refuses_when_no_trial_is_complete(tmp_path):
    folder = _study(tmp_path / "study", num_trials=2, cut={0: "task A only", 1: "no selection runs"})
    with pytest.raises(ValueError, match=r"No trial of the bridge study is complete.*trial 0: 1 run\(s\) in "
                                         r"sequential\.csv cut short.*trial 1: no runs in selection\.csv"):
        bridge_study(*load_bridge(folder), num_resamples=50)
