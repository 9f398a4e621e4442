"""A researcher's own task and model through the main job: an import-path task run by papermill from a folder
outside the repository, resumed, and on the Ray backend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]

MODULE = textwrap.dedent('''
    """A user's task: digits through a Keras model the toolkit does not ship."""
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    import Tasks


    def build_model(seed):
        keras.utils.set_random_seed(seed)
        return keras.Sequential([keras.Input((64,)), keras.layers.Dense(24, activation="tanh", name="hidden"),
                                 keras.layers.Dense(10, name="logits")], name="users_own_mlp")


    def build_task(seed=0, *, hidden=24):
        x, y = load_digits(return_X_y=True)
        x = (x / 16.0).astype("float32")
        y = y.astype("int64")
        return Tasks.make_task("my_digits", (x[:1200], y[:1200]), (x[1200:], y[1200:]), build_model,
                               Tasks.classification_loss(), 10, 32, seed)
''')


@pytest.fixture
def user_folder(tmp_path):
    folder = tmp_path / "my_project"
    folder.mkdir()
    (folder / "mymod.py").write_text(MODULE)
    return folder


def run_notebook(folder: Path, *parameters: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "main.ipynb"), str(folder / "out.ipynb"),
         "-p", "num_trials", "1", "--cwd",
         str(folder), "-p", "task", "mymod:build_task", "-p", "epochs", "1", "-p", "num_train_loss_examples", "100",
         "-p", "num_validation_examples", "100", "-p", "results_csv", "results/own.csv", "-p", "progress", "False",
         "-y", "measures: [magnitude]", "-y", "aggregation_levels: [weight]", "-y", "orders: [least]",
         "-p", "num_thresholds", "3", *parameters],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=600)


def test_notebook_runs_a_task_from_the_users_module_outside_the_repository(user_folder):
    first = run_notebook(user_folder)
    assert first.returncode == 0, first.stderr[-3000:]
    results = pd.read_csv(user_folder / "results" / "own.csv")
    assert set(results.task) == {"my_digits"}
    assert len(results) == 2 * 3  # random and magnitude, three thresholds
    again = run_notebook(user_folder)  # resumes: a finished run adds nothing
    assert again.returncode == 0, again.stderr[-3000:]
    assert len(pd.read_csv(user_folder / "results" / "own.csv")) == len(results)


def test_a_task_from_the_users_module_runs_on_ray(user_folder, monkeypatch):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -r requirements-ray.txt)")
    from Experiment import ExperimentConfig, run_trials
    from Runs.ray_trials import runtime_env

    monkeypatch.chdir(user_folder)
    monkeypatch.syspath_prepend(str(user_folder))
    assert str(user_folder / "mymod.py") in runtime_env(task="mymod:build_task")["py_modules"]
    config = ExperimentConfig(task="mymod:build_task", epochs=1, measures=["magnitude"],
                              aggregation_levels=["weight"], num_thresholds=3, num_train_loss_examples=100,
                              num_validation_examples=100, results_csv="results/ray.csv", progress=False,
                              num_cpus_per_trial=1)
    results = pd.read_csv(run_trials(config, num_trials=2, backend="ray"))
    assert set(results.task) == {"my_digits"} and set(results.trial) == {0, 1}
