"""A run whose trained model is at chance says so: one warning per (trial, epoch), naming both losses and what to
check, in the run and in the notebook's output; a model that learnt gives none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import Tasks
from Experiment import run_experiment
from Experiment.chance import AtChanceWarning, warn_if_at_chance

ROOT = Path(__file__).resolve().parents[2]


def build_frozen_digits(seed=0):
    """digits with a learning rate of 0: training never moves the initial weights."""
    digits = Tasks.get_task("digits", seed=seed)
    return Tasks.make_task("frozen_digits", digits.train, digits.validation, digits.model_builder, digits.loss,
                           digits.num_classes, digits.batch_size, seed, learning_rate=0.0)


@pytest.fixture
def frozen_task():
    Tasks.register_task("frozen_digits", build_frozen_digits)
    yield "frozen_digits"
    Tasks.unregister_task("frozen_digits")


def test_the_rule_by_loss_and_by_accuracy():
    with pytest.warns(AtChanceWarning, match=r"Trial 3, epoch 7: .* validation loss 2\.2000 against the chance level "
                                             r"2\.3000 .*learning rate.*epochs.*BatchNormalization's momentum"):
        assert warn_if_at_chance(3, 7, 2.2, 0.5, 2.3, 10)  # 2.2 >= 2.3 - 0.05 * 2.3 = 2.185
    with pytest.warns(AtChanceWarning, match=r"accuracy 0\.104 against 1/10 = 0\.100"):
        assert warn_if_at_chance(0, 1, 1.0, 0.104, 2.3, 10)  # loss well below chance, accuracy <= 1.05 / 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_at_chance(0, 1, 2.18, 0.106, 2.3, 10)  # neither: 2.18 < 2.185 and 0.106 > 0.105
        assert not warn_if_at_chance(0, 1, 2.18, float("nan"), 2.3, None)  # regression: the loss alone


def test_a_model_that_cannot_learn_is_reported_once_per_trial_and_epoch(frozen_task, make_config, tmp_path):
    config = make_config(tmp_path / "frozen.csv", task=frozen_task, num_trials=2, epochs=2, measures=["magnitude"],
                         aggregation_levels=["weight"], orders=["least", "most"], num_thresholds=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_experiment(config)
    messages = [str(w.message) for w in caught if issubclass(w.category, AtChanceWarning)]
    assert sorted(m.split(":")[0] for m in messages) == [f"Trial {t}, epoch {e}" for t in (0, 1) for e in (1, 2)]
    with warnings.catch_warnings(record=True) as caught:  # a finished run measures nothing, so warns of nothing
        warnings.simplefilter("always")
        run_experiment(config)
    assert not [w for w in caught if issubclass(w.category, AtChanceWarning)]


def test_a_trained_digits_model_is_not_reported(make_config, tmp_path):
    config = make_config(tmp_path / "digits.csv", epochs=1, measures=["magnitude"], aggregation_levels=["weight"],
                         num_thresholds=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_experiment(config)
    assert not [w for w in caught if issubclass(w.category, AtChanceWarning)]


NOTEBOOK_TASK = textwrap.dedent('''
    """digits with a learning rate of 0, from the user's module."""
    import Tasks


    def build_task(seed=0):
        digits = Tasks.get_task("digits", seed=seed)
        return Tasks.make_task("frozen_digits", digits.train, digits.validation, digits.model_builder, digits.loss,
                               digits.num_classes, digits.batch_size, seed, learning_rate=0.0)
''')


def test_the_notebook_shows_the_warning(tmp_path):
    (tmp_path / "frozen.py").write_text(NOTEBOOK_TASK)
    environment = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "main.ipynb"), str(tmp_path / "out.ipynb"),
         "-p", "num_trials", "1", "--cwd",
         str(tmp_path), "-p", "task", "frozen:build_task", "-p", "epochs", "1", "-p", "num_train_loss_examples", "100",
         "-p", "num_validation_examples", "100", "-p", "results_csv", "results/frozen.csv", "-p", "progress", "False",
         "-y", "measures: [magnitude]", "-y", "aggregation_levels: [weight]", "-y", "orders: [least]",
         "-p", "num_thresholds", "3"],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    notebook = json.loads((tmp_path / "out.ipynb").read_text())
    text = "".join("".join(output.get("text", "")) for cell in notebook["cells"] for output in cell.get("outputs", [])
                   if output["output_type"] == "stream")
    assert text.count("Trial 0, epoch 1: the trained model is at chance") == 1, text[-3000:]
    assert "AtChanceWarning" in text and "BatchNormalization's momentum" in text
