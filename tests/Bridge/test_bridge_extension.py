"""λ beyond the grid's edge: the rule on hand-made selection tables, the fields that switch it, and a tiny study
that extends its grid, stops, resumes to the same rows and, finished, adds nothing."""

from __future__ import annotations

import itertools
import json
import shutil

import numpy as np
import pandas as pd
import pytest

import Analysis.bridge_study
from Analysis.bridge_inputs import ewc_scores
from Bridge import BridgeConfig, PartConfig, part_csv, run_bridge
from Bridge.__main__ import parse_arguments
from Bridge.extension import lambdas_to_add, recorded_extensions, selection_scores
from Bridge.paths import first_task_checkpoint
from Runs.results import read_rows
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS, sequential_run_key
from Schema.lambda_choice import choose_lambdas
from SequentialLearning import SequentialLearner

nan = np.nan
LAMBDAS = [0.1, 1.0, 10.0]
# [trial, measure, λ], λ = 0.1, 1, 10. Means over the two trials, by measure:
#   0: 0.6, 0.5, 0.4  -> 0.1, the smallest     -> add 0.01
#   1: 0.5, 0.7, 0.6  -> 1, interior            -> nothing
#   2: 0.3, 0.5, 0.55 -> 10, the largest        -> add 100 (trial 0 alone would choose 1)
#   3: NaN, 0.8, 0.6  -> 1, the smallest it was run with (not at 0.1) -> add 0.1
#   4: 0.5, 0.5, 0.2  -> a tie: 0.1, the smaller -> add 0.01
SELECTION = np.array([
    [[0.7, 0.4, 0.5], [0.4, 0.8, 0.5], [0.2, 0.6, 0.5], [nan, 0.9, 0.6], [0.4, 0.6, 0.2]],
    [[0.5, 0.6, 0.3], [0.6, 0.6, 0.7], [0.4, 0.4, 0.6], [nan, 0.7, 0.6], [0.6, 0.4, 0.2]],
])


def test_an_edge_choice_adds_the_next_lambda_beyond_it():
    assert choose_lambdas(SELECTION).tolist() == [0, 1, 2, 1, 0]
    assert lambdas_to_add(SELECTION, LAMBDAS, 10.0, [1e-4, 1e4]) == [[0.01], [], [100.0], [0.1], [0.01]]
    assert lambdas_to_add(SELECTION, LAMBDAS, 2.0, [1e-4, 1e4]) == [[0.05], [], [20.0], [0.5], [0.05]]
    assert lambdas_to_add(SELECTION, LAMBDAS, None, [1e-4, 1e4]) == [[]] * 5


def test_the_extension_stops_where_the_next_lambda_leaves_the_bounds():
    # 0.01 < 0.05 and 100 > 50: measures 0, 2 and 4 stop; measure 3's 0.1 is inside.
    assert lambdas_to_add(SELECTION, LAMBDAS, 10.0, [0.05, 50.0]) == [[], [], [], [0.1], []]
    # A bound is reached, not passed: 0.01 and 100 are allowed when they are the bounds.
    assert lambdas_to_add(SELECTION, LAMBDAS, 10.0, [0.01, 100.0]) == [[0.01], [], [100.0], [0.1], [0.01]]
    # Repeated division lands on the bound: 1e-3 / 10 is 1.0000000000000002e-04 before it is rounded as keys are.
    assert lambdas_to_add(np.ones((1, 1, 2)), [1e-3, 1e-2], 10.0, [1e-4, 1.0]) == [[1e-4]]


def test_a_grid_of_one_lambda_is_extended_both_ways_and_zero_never_below():
    assert lambdas_to_add(np.array([[[0.3]]]), [1.0], 10.0, [1e-4, 1e4]) == [[0.1, 10.0]]
    assert lambdas_to_add(np.array([[[0.9, 0.1]]]), [0.0, 1.0], 10.0, [1e-4, 1e4]) == [[]]  # 0 is chosen


def test_the_runner_and_the_analysis_choose_with_one_rule():
    assert Analysis.bridge_study.choose_lambdas is choose_lambdas
    # With the old rule (argmax of np.nanmean) a λ a measure was never run at would be chosen: NaN is np.argmax's max.
    with pytest.warns(RuntimeWarning):
        assert np.argmax(np.nanmean(SELECTION, axis=-3), axis=-1)[3] == 0
    assert choose_lambdas(SELECTION)[3] == 1
    with pytest.raises(ValueError, match="ascending"):
        lambdas_to_add(SELECTION, [1.0, 0.1, 10.0], 10.0, [1e-4, 1e4])
    with pytest.raises(ValueError, match="one λ per value"):
        lambdas_to_add(SELECTION, [0.1, 1.0], 10.0, [1e-4, 1e4])


# -- the fields --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("changes, message", [
    ({"lambda_extension_factor": 0.5}, "lambda_extension_factor must be a number > 1"),
    ({"lambda_extension_factor": "10"}, "lambda_extension_factor"),
    ({"lambda_bounds": [1.0]}, r"lambda_bounds must be two numbers \[low, high\]"),
    ({"lambda_bounds": [10.0, 1.0]}, "low <= high"),
    ({"lambda_bounds": [0.0, 1.0]}, "1e-08 <= low"),
    ({"lambda_bounds": ["1e-4", "1e4"]}, "write 1.0e-4"),
    ({"lambda_bounds": 5}, "lambda_bounds must be a list"),
])
def test_bad_extension_fields_are_refused_with_what_is_valid(make_config, tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path, **changes)


def test_a_factor_of_one_is_no_extension_and_a_study_recorded_without_the_fields_reads_the_defaults(
        make_config, tmp_path):
    assert make_config(tmp_path, lambda_extension_factor=1).lambda_extension_factor is None
    config = make_config(tmp_path, lambda_extension_factor=10.0, lambda_bounds=[1e-4, 1e4])
    assert (config.lambda_extension_factor, config.lambda_bounds) == (10.0, [1e-4, 1e4])
    PartConfig.of(config, tmp_path / "thresholding.csv").save(tmp_path / "thresholding.json")
    values = json.loads((tmp_path / "thresholding.json").read_text())
    del values["lambda_extension_factor"], values["lambda_bounds"]  # as a study recorded before the fields
    (tmp_path / "thresholding.json").write_text(json.dumps(values))
    old = PartConfig.load(tmp_path / "thresholding.json")
    assert old.study() == config  # so RunFiles finds no difference and the study resumes, now extended
    assert not old.differences(PartConfig.of(config, tmp_path / "thresholding.csv"))
    assert old.differences(PartConfig.of(make_config(tmp_path, lambda_extension_factor=None), "x.csv")) == {
        "lambda_extension_factor": (10.0, None)}


def test_the_command_line_takes_the_extension_fields(make_config, tmp_path):
    values = parse_arguments(["--lambda-extension-factor", "null", "--lambda-bounds", "[0.001, 1000]"])
    assert values == {"lambda_extension_factor": None, "lambda_bounds": [0.001, 1000]}
    assert make_config(tmp_path, **values).lambda_bounds == [0.001, 1000.0]


def test_the_runs_of_a_label_are_its_grid_and_the_values_it_was_extended_with(make_config, tmp_path):
    config = make_config(tmp_path, measures=["magnitude"], measure_options={}, ewc_lambdas=[0.1, 1.0])
    extended = {"magnitude": [0.01, 0.001], "uniform": [10.0]}
    assert config.lambdas_of("magnitude", extended["magnitude"]) == [0.001, 0.01, 0.1, 1.0]
    assert config.lambdas_of("none", [5.0]) == [0.0]
    assert config.runs(extended) == [("none", 0.0), ("uniform", 0.1), ("uniform", 1.0), ("uniform", 10.0),
                                     ("random", 0.1), ("random", 1.0),
                                     ("magnitude", 0.001), ("magnitude", 0.01), ("magnitude", 0.1),
                                     ("magnitude", 1.0)]
    keys = {sequential_run_key(trial, label, value) for trial in (0, 1) for label, value in config.runs(extended)}
    done = {"sequential": keys, "selection": {sequential_run_key(1, "random", 100.0)}}
    assert recorded_extensions(config, done) == {**extended, "magnitude": [0.001, 0.01], "random": [100.0]}


# -- a tiny study ------------------------------------------------------------------------------------------------
def extending_config(make_config, results_dir) -> BridgeConfig:
    """2 trials, magnitude (and random, uniform, none), λ ∈ {0.1, 1}, bounds [0.01, 10]: every label's choice of
    two λ is at an edge, so each is run at one λ beyond it (0.01 or 10), and no further (0.001 and 100 are out)."""
    return make_config(results_dir, task="Bridge.tasks:with_learning_rate", num_train_examples=200,
                       task_options={"base_task": "digits", "learning_rate": 0.01}, num_trials=2,
                       measures=["magnitude"], measure_options={}, ewc_lambdas=[0.1, 1.0],
                       lambda_extension_factor=10.0, lambda_bounds=[0.01, 10.0])


@pytest.fixture(scope="module")
def extended_study(tmp_path_factory, make_config):
    config = extending_config(make_config, tmp_path_factory.mktemp("extension") / "study")
    run_bridge(config)
    return config


def _rows(config, part):
    return pd.read_csv(part_csv(config.results_dir, part))


def _replayed_lambdas(config, selection: pd.DataFrame) -> dict[str, list[float]]:
    """The λ each label ends with, replaying the rule on the final rows: each run depends only on task A and its
    own λ, so the choices the runner made round by round are those made now on the rows of the λ it had then."""
    scores = ewc_scores(selection)
    lambdas = {}
    for label in ("uniform", "random", "magnitude"):
        mine = scores[scores["measure"] == label]
        values = list(config.ewc_lambdas)
        while True:
            means = mine[mine["lambda"].isin(values)].groupby("lambda")["average_accuracy"].mean()
            chosen = means.idxmax()  # first (smallest) λ on a tie
            step = (round(chosen / 10, 10) if chosen == min(values) and chosen / 10 >= 0.01 else
                    round(chosen * 10, 10) if chosen == max(values) and chosen * 10 <= 10 else None)
            if step is None:
                break
            values = sorted([*values, step])
        lambdas[label] = values
    return lambdas


def test_a_study_extends_lambda_at_the_edge_until_the_bound_or_an_interior_choice(extended_study):
    config = extended_study
    selection, sequential = _rows(config, "selection"), _rows(config, "sequential")
    run_lambdas = {label: sorted(group["lambda"].unique()) for label, group in selection.groupby("measure")}
    assert run_lambdas.pop("none") == [0.0]
    # A choice between two λ is always at an edge: one step beyond it, and the next step is out of bounds.
    assert all(len(values) == 3 and (values[1:] == [0.1, 1.0] or values[:2] == [0.1, 1.0])
               for values in run_lambdas.values()), run_lambdas
    assert {v for values in run_lambdas.values() for v in values} <= {0.01, 0.1, 1.0, 10.0}
    assert run_lambdas == _replayed_lambdas(config, selection)
    # Every trial has every run, with all of its rows, in both files, once.
    for rows in (selection, sequential):
        runs = rows.groupby(["measure", "lambda"])["trial"].value_counts().unstack()
        assert (runs == 3).all().all() and list(runs.columns) == [0, 1]  # (0, 0), (1, 0), (1, 1)
        assert set(zip(rows["measure"], rows["lambda"])) == set(zip(selection["measure"], selection["lambda"]))
    # The runner's scores are the analysis' average accuracies, and its choices the analysis' choices.
    extended = {label: [v for v in values if v not in config.ewc_lambdas] for label, values in run_lambdas.items()}
    written = read_rows(part_csv(config.results_dir, "selection"), SEQUENTIAL_COLUMNS, "the bridge study")
    scores, labels, lambdas = selection_scores(config, written, extended)
    expected = ewc_scores(selection).pivot_table(index="trial", columns=["measure", "lambda"],
                                                 values="average_accuracy")
    for i, label in enumerate(labels):
        for k, value in enumerate(lambdas):
            if value in run_lambdas[label]:
                assert np.array_equal(scores[:, i, k], expected[(label, value)].to_numpy())
            else:
                assert np.isnan(scores[:, i, k]).all()
    # Every extension run starts from task A's model as it was thresholded.
    untouched = _rows(config, "thresholding").query("threshold == 0").groupby("trial")["val_loss"].first()
    start = sequential.query("trained_task == 0")
    assert np.allclose(start["loss"], start["trial"].map(untouched))
    assert not any(first_task_checkpoint(config.results_dir, trial, config.epochs).exists() for trial in (0, 1))


def test_a_finished_extended_study_adds_nothing(extended_study, monkeypatch):
    before = {part: part_csv(extended_study.results_dir, part).read_bytes() for part in ("sequential", "selection")}

    def refuse(*args, **kwargs):
        raise AssertionError("a finished study trained again")

    monkeypatch.setattr(SequentialLearner, "__init__", refuse)
    run_bridge(extended_study)
    assert {part: part_csv(extended_study.results_dir, part).read_bytes() for part in before} == before


def test_a_study_stopped_while_extending_resumes_to_the_rows_of_one_run_without_stopping(
        extended_study, make_config, tmp_path, monkeypatch):
    config = extending_config(make_config, tmp_path / "study")
    grid_runs = len(config.runs()) * config.num_trials  # 7 runs per trial before any extension
    run, calls = SequentialLearner.run, []

    def stopping(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == grid_runs + 2:  # trial 0's second extension run
            raise KeyboardInterrupt
        return run(self, *args, **kwargs)

    monkeypatch.setattr(SequentialLearner, "run", stopping)
    with pytest.raises(KeyboardInterrupt):
        run_bridge(config)
    assert len(_rows(config, "selection")) == (grid_runs + 1) * 3
    # Trial 0's task A checkpoint lost as well (as for a study recorded before checkpoints were kept for the
    # extension): task A is trained again, to the same model.
    checkpoint = first_task_checkpoint(config.results_dir, 0, config.epochs)
    assert checkpoint.exists()
    checkpoint.unlink()
    monkeypatch.setattr(SequentialLearner, "run", run)
    run_bridge(config)
    keys = ["trial", "measure", "lambda", "trained_task", "evaluated_task"]
    for part in ("thresholding", "sequential", "selection"):
        found, expected = _rows(config, part), _rows(extended_study, part)
        columns = list(found.columns)
        assert len(found) == len(expected)
        assert (found.sort_values(columns).reset_index(drop=True)
                .equals(expected.sort_values(columns).reset_index(drop=True))), part
    assert not _rows(config, "selection").duplicated(keys).any()
    shutil.rmtree(config.results_dir)


def _study_rows(lambdas: dict[str, list[float]], trials: int = 3):
    """Thresholding, sequential and selection rows of ``trials`` trials in which each measure was run at its own
    ``lambdas``; scores vary with trial, measure and λ so that no choice ties."""
    thresholding, runs = [], []
    for trial, (m, (measure, values)) in itertools.product(range(trials), enumerate(lambdas.items())):
        common = {"trial": trial, "seed": trial, "task": "digits", "epoch": 1, "measure": measure,
                  "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer", "parameters": "all",
                  "replacement": "noise", "loss": np.nan, "accuracy": np.nan, "val_accuracy": 0.5,
                  "chance_val_loss": 3.0}
        for order in ("least", "most"):
            for threshold, loss in ((0.0, 1.0), (0.5, 1.5 + 0.2 * m + 0.05 * trial), (1.0, 3.0)):
                thresholding.append({**common, "order": order, "threshold": threshold,
                                     "fraction_removed": threshold, "val_loss": loss})
        for k, value in enumerate(values):
            final = 0.5 + 0.1 * m - 0.03 * k + 0.01 * trial
            runs += [{"trial": trial, "seed": trial, "task": "digits", "sequence": "permuted", "measure": measure,
                      "lambda": value, "trained_task": i, "evaluated_task": j, "accuracy": a, "loss": 0.0,
                      "penalty": 0.0} for i, j, a in ((0, 0, 0.9), (1, 0, final), (1, 1, 0.9))]
    runs = pd.DataFrame(runs)[list(SEQUENTIAL_COLUMNS)]
    return pd.DataFrame(thresholding).reindex(columns=list(THRESHOLDING_COLUMNS)), runs, runs.copy()


def test_the_analysis_reads_a_study_whose_measures_were_run_at_different_lambdas():
    grid = [0.1, 1.0]
    rows = _study_rows({"fisher": [0.01, *grid], "mas": grid, "random": grid, "si": grid})
    study = Analysis.bridge_study.bridge_study(*rows, num_resamples=50)
    assert not study.correlations.empty and (study.correlations["num_trials"] == 3).all()
