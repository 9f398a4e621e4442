"""The three studies' configurations are composed of field groups defined once (``Runs/records.py``): each field
has one meaning and one default source, one list of execution fields holds for all, and a renamed field is read
under its old name from saved configurations but refused from a notebook."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from Bridge import BridgeConfig
from Experiment import ExperimentConfig
from Experiment.config import ThresholdingGrid
from Runs.records import EXECUTION_FIELDS, ExecutionFields, RunFields
from SequentialLearning import SequentialConfig
from SequentialLearning.config import SequenceSettings

ROOT = Path(__file__).resolve().parents[1]
GROUPS = {"run": RunFields, "execution": ExecutionFields, "grid": ThresholdingGrid, "sequence": SequenceSettings}


def names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_each_study_is_its_groups_and_its_own_fields():
    run = names(RunFields) | names(ExecutionFields)
    assert names(ExperimentConfig) >= run | names(ThresholdingGrid)
    assert names(SequentialConfig) >= run | names(SequenceSettings)
    assert names(BridgeConfig) >= run | names(ThresholdingGrid) | names(SequenceSettings)
    # The bridge restates none of the runners' own fields: what it has beyond the groups is its own.
    own = names(BridgeConfig) - run - names(ThresholdingGrid) - names(SequenceSettings)
    assert own == {"measures", "measure_options", "num_selection_examples", "results_dir", "lambda_extension_factor",
                   "lambda_bounds", "primary_thresholding_metric", "primary_ewc_score", "primary_aggregation_level"}
    # The fields the bridge declares itself (its annotations) are its own ones and the defaults it changes.
    assert set(BridgeConfig.__annotations__) == own | {"aggregation_levels", "orders", "sequence", "model"}


def test_one_list_of_execution_fields_and_evaluation_batch_size_is_identity_everywhere(tmp_path):
    assert ExperimentConfig.EXECUTION_FIELDS == SequentialConfig.EXECUTION_FIELDS == BridgeConfig.EXECUTION_FIELDS \
        == EXECUTION_FIELDS
    configs = [ExperimentConfig(results_csv=str(tmp_path / "t.csv")),
               SequentialConfig(results_csv=str(tmp_path / "s.csv")), BridgeConfig(results_dir=str(tmp_path / "b"))]
    for config in configs:
        other = dataclasses.replace(config, evaluation_batch_size=256, num_trials=7, progress=False)
        assert config.differences(other) == {"evaluation_batch_size": (1024, 256)}, type(config).__name__


def test_the_bridge_hands_every_group_value_to_the_runners(tmp_path):
    bridge = BridgeConfig(results_dir=str(tmp_path / "b"), adaptive_tolerance=0.1, threshold_spacing="adaptive",
                          num_thresholds=9, scopes=["model"], replacement="zero", batch_size=16, num_threads=1,
                          evaluation_batch_size=128, num_validation_examples=50, ewc_decay=0.5,
                          ewc_variant="online", num_train_examples=200, normalization="rank",
                          ewc_lambdas=[0.5, 2.0])
    thresholding = bridge.thresholding_config(bridge.labels())
    sequential = bridge.sequential_config()
    for group, config in (("run", thresholding), ("grid", thresholding), ("run", sequential),
                          ("sequence", sequential)):
        for name in names(GROUPS[group]):
            assert getattr(config, name) == getattr(bridge, name), (type(config).__name__, name)
    assert thresholding.num_train_loss_examples == 0 and thresholding.validation_precision is None


def test_a_renamed_field_is_read_under_its_old_name_and_both_names_are_refused(tmp_path):
    saved = ExperimentConfig(results_csv=str(tmp_path / "r.csv")).to_dict()
    saved.pop("num_train_loss_examples")
    saved["num_train_examples"] = 250
    path = tmp_path / "r.json"
    path.write_text(json.dumps(saved))
    assert ExperimentConfig.load(path).num_train_loss_examples == 250
    with pytest.raises(ValueError, match="num_train_examples was renamed num_train_loss_examples"):
        ExperimentConfig.from_dict({"num_train_examples": 1, "num_train_loss_examples": 2})
    # In the sequential and bridge studies num_train_examples keeps its meaning (the examples trained on).
    assert SequentialConfig.from_dict({"num_train_examples": 120}).num_train_examples == 120


def test_a_notebook_given_the_old_name_is_refused_with_the_new_one():
    namespace = {f.name: getattr(ExperimentConfig(), f.name) for f in dataclasses.fields(ExperimentConfig)}
    assert ExperimentConfig.from_namespace(namespace) == ExperimentConfig(**namespace)
    with pytest.raises(ValueError, match=r"num_train_examples \(now num_train_loss_examples\)"):
        ExperimentConfig.from_namespace({**namespace, "num_train_examples": 1000})


def test_the_command_line_still_takes_every_bridge_field():
    output = subprocess.run([sys.executable, "-m", "Bridge", "--help"], cwd=ROOT, capture_output=True, text=True,
                            check=True, env={"PATH": "", "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout
    for name in names(BridgeConfig):
        assert f"--{name.replace('_', '-')}" in output
