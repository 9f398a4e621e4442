"""The evaluation budget: the training-loss column off by default, and ``validation_precision`` (rows stopped at
a standard error relative to chance - L0, over a seeded order of the validation examples)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from Experiment import ExperimentConfig, run_experiment
from Experiment import budget


def test_new_runs_record_no_training_loss_and_old_configurations_read_as_they_ran(tmp_path):
    config = ExperimentConfig(results_csv=str(tmp_path / "r.csv"))
    assert config.num_train_examples == 0  # 0 is none; None would be every training example
    # A configuration saved before validation_precision existed, with the training count it recorded.
    saved = config.to_dict()
    saved.pop("validation_precision")
    saved["num_train_examples"] = 1000
    (tmp_path / "old.json").write_text(json.dumps(saved))
    old = ExperimentConfig.load(tmp_path / "old.json")
    assert old.num_train_examples == 1000 and old.validation_precision is None
    assert set(ExperimentConfig().differences(old)) >= {"num_train_examples"}
