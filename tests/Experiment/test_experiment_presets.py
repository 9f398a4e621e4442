"""The presets (papermill parameter files under presets/): every field is a configuration field that validates,
the two presets differ in their task alone, and the Fashion-MNIST preset runs through the main notebook with
its trials, epochs and example counts overridden small."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from Experiment import ExperimentConfig

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted((ROOT / "presets").glob("*.yaml"))
ORIGINAL_AUGMENTATION = {"zoom": {"height_factor": [-0.25, -0.05], "width_factor": [-0.25, -0.05]},
                         "rotation": {"factor": 0.05, "fill_mode": "constant"}}


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_there_are_the_two_presets():
    assert [path.name for path in PRESETS] == ["original_fashion_mnist.yaml", "original_mnist.yaml"]


@pytest.mark.parametrize("path", PRESETS, ids=lambda path: path.stem)
def test_every_field_of_a_preset_is_a_valid_configuration_field(path):
    fields = {field.name for field in dataclasses.fields(ExperimentConfig)}
    parameters = read(path)
    assert set(parameters) <= fields, sorted(set(parameters) - fields)
    config = ExperimentConfig(**parameters)  # validates every value, the task's options included
    # The original final experiment's design, as its script sets it.
    assert (config.epochs, config.measure_every, config.num_thresholds, config.threshold_spacing) == (25, 5, 21, "linear")
    assert config.task_options == {"model": "original_cnn", "batch_size": 32, "augmentation": ORIGINAL_AUGMENTATION}
    assert (config.aggregation_levels, config.aggregation_methods, config.scopes, config.orders, config.replacement) \
        == (["weight", "unit", "filter"], ["mean"], ["layer"], ["least"], "noise")
    assert sorted(config.measures) == ["fisher", "momentum_changes", "sign_flips", "weight_change"]
    assert config.num_train_loss_examples is None and config.num_validation_examples is None


def test_the_presets_differ_in_their_task_alone():
    mnist, fashion = read(ROOT / "presets/original_mnist.yaml"), read(ROOT / "presets/original_fashion_mnist.yaml")
    assert (mnist.pop("task"), fashion.pop("task")) == ("mnist", "fashion_mnist")
    assert (mnist.pop("results_csv"), fashion.pop("results_csv")) == ("results/original_mnist.csv",
                                                                      "results/original_fashion_mnist.csv")
    assert mnist == fashion


def test_the_fashion_mnist_preset_runs_small(tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    overrides = {"num_trials": 1, "epochs": 1, "measure_every": 1, "num_train_loss_examples": 256,
                 "num_validation_examples": 128, "num_importance_examples": 64, "num_thresholds": 3,
                 "progress": False, "results_csv": "results/preset.csv"}
    command = [sys.executable, "-m", "papermill", str(ROOT / "main.ipynb"), str(tmp_path / "out.ipynb"),
               "--cwd", str(tmp_path), "-f", str(ROOT / "presets/original_fashion_mnist.yaml")]
    for name, value in overrides.items():
        command += ["-p", name, str(value)]
    run = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = pd.read_csv(tmp_path / "results/preset.csv")
    saved = json.loads((tmp_path / "results/preset.json").read_text())
    assert saved["task"] == "fashion_mnist" and saved["task_options"]["augmentation"] == ORIGINAL_AUGMENTATION
    assert saved["task_options"]["model"] == "original_cnn"
    # Five measures (random added) x three levels x three thresholds, at the one measured epoch.
    assert sorted(rows["measure"].unique()) == ["fisher", "momentum_changes", "random", "sign_flips", "weight_change"]
    assert sorted(rows["aggregation_level"].unique()) == ["filter", "unit", "weight"]
    assert len(rows) == 5 * 3 * 3 and set(rows["epoch"]) == {1}
