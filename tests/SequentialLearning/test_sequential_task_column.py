"""The ``task`` column of a sequential results file holds the task's own name, as thresholding results do, so the
two join on it also for a task from the user's module; a file that holds the configured string is resumed and
given the name."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

from Experiment import ExperimentConfig, run_experiment
from SequentialLearning import run_sequential
from SequentialLearning import training as sequential_training

MODULE = textwrap.dedent('''
    """A user's task: digits flattened, learnt by a small MLP the toolkit does not ship."""
    import keras
    from sklearn.datasets import load_digits

    import Tasks


    def build_model(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                                 keras.layers.Dense(10)], name="users_mlp")


    def build_task(seed=0):
        x, y = load_digits(return_X_y=True)
        x, y = (x / 16.0).astype("float32"), y.astype("int64")
        return Tasks.make_task("my_digits", (x[:400], y[:400]), (x[1200:1300], y[1200:1300]), build_model,
                               Tasks.classification_loss(), 10, 32, seed)
''')
CONFIGURED = "my_sequential_task:build_task"


@pytest.fixture
def user_task(tmp_path, monkeypatch):
    (tmp_path / "my_sequential_task.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return CONFIGURED


def test_the_task_column_is_the_tasks_name_and_joins_the_thresholding_results(user_task, tmp_path, make_config):
    config = make_config(tmp_path / "sequential.csv", task=user_task, sequence="permuted", num_train_examples=80,
                         num_validation_examples=40, num_importance_examples=40)
    sequential = pd.read_csv(run_sequential(config))
    assert set(sequential.task) == {"my_digits"} and len(sequential) == 2 * 3  # two runs of two tasks
    thresholding = pd.read_csv(run_experiment(ExperimentConfig(
        task=user_task, epochs=1, measures=["magnitude"], aggregation_levels=["weight"], num_thresholds=2,
        num_validation_examples=40, num_train_loss_examples=0, num_importance_examples=40, progress=False,
        results_csv=str(tmp_path / "thresholding.csv"))))
    joined = sequential.merge(thresholding, on=["trial", "task"], suffixes=("_sequential", "_thresholding"))
    assert len(joined) == len(sequential) * len(thresholding)


def test_a_file_that_holds_the_configured_string_resumes_and_is_given_the_name(user_task, tmp_path, make_config,
                                                                                 monkeypatch):
    config = make_config(tmp_path / "old.csv", task=user_task, sequence="permuted", num_train_examples=80,
                         num_validation_examples=40, num_importance_examples=40)
    whole = pd.read_csv(run_sequential(config))
    # As written before: the configured string in the task column, and the run of "uniform" cut short.
    old = whole.assign(task=CONFIGURED)
    old = old[~((old.measure == "uniform") & (old.trained_task == 1))]
    old.to_csv(config.results_csv, index=False)

    runs = []
    original = sequential_training.SequentialLearner.run
    monkeypatch.setattr(sequential_training.SequentialLearner, "run",
                        lambda self, *a, **k: runs.append(self.importance) or original(self, *a, **k))
    with pytest.warns(RuntimeWarning, match=r"task column of 3 rows held the configured task .*'my_digits'"):
        resumed = pd.read_csv(run_sequential(config))
    assert runs == ["uniform"]  # the complete run (trial, measure, λ) was recognised under the old task column
    assert set(resumed.task) == {"my_digits"} and len(resumed) == len(whole)
    keys = ["trial", "measure", "lambda", "trained_task", "evaluated_task"]
    merged = whole.merge(resumed, on=keys, suffixes=("", "_resumed"), validate="one_to_one")
    assert len(merged) == len(whole)
    pd.testing.assert_series_equal(merged.accuracy_resumed, merged.accuracy, check_names=False)
