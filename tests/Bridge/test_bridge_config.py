"""The study's configuration: labels and variants, validation through both runners, the record beside each part,
the command line and the notebook's parameters."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from Bridge import BridgeConfig, PartConfig, base_measure
from Bridge.__main__ import parse_arguments

ROOT = Path(__file__).resolve().parents[2]


def test_labels_put_random_first_and_the_ewc_baselines_before_them(make_config, tmp_path):
    config = make_config(tmp_path)
    assert config.labels() == ["random", "magnitude", "fisher", "fisher@sampled", "si"]
    assert config.ewc_measures()[:2] == ["none", "uniform"]
    assert config.runs()[0] == ("none", 0.0) and ("si", 1.0) in config.runs()
    assert base_measure("fisher@sampled") == "fisher" and config.options_of("fisher@sampled") == {"labels": "sampled"}


@pytest.mark.parametrize("changes, message", [
    ({"measures": ["none"]}, "EWC baseline"),
    ({"measures": ["shuffled:fisher"]}, "controls"),
    ({"measures": ["fisher", "fisher"]}, "twice"),
    ({"measures": ["nonsense"]}, "nonsense"),
    ({"measure_options": {"mas": {}}}, "does not list"),
    ({"measure_options": {"fisher@sampled": {"colour": 1}}}, "colour"),
    ({"orders": ["sideways"]}, "orders"),
    ({"sequence": "shuffled"}, "sequence"),
    ({"num_selection_examples": 0}, "num_selection_examples"),
    ({"primary_thresholding_metric": "auc"}, r"primary_thresholding_metric is 'auc'.*'auc_least', 'auc_most'"),
    ({"primary_ewc_score": "forgetting"}, r"primary_ewc_score.*'forgetting_a', 'average_accuracy'"),
    ({"primary_aggregation_level": "unit"}, r"primary_aggregation_level is 'unit'.*\['weight'\]"),
])
def test_bad_values_are_refused_with_what_is_valid(make_config, tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path, **changes)


def test_a_part_records_the_study_and_its_csv(make_config, tmp_path):
    config = make_config(tmp_path)
    part = PartConfig.of(config, tmp_path / "thresholding.csv")
    part.save(tmp_path / "thresholding.json")
    loaded = PartConfig.load(tmp_path / "thresholding.json")
    assert loaded.study() == config
    assert not loaded.differences(PartConfig.of(dataclasses.replace(config, results_dir="elsewhere"), "x.csv"))
    assert loaded.differences(PartConfig.of(dataclasses.replace(config, epochs=2), "x.csv")) == {"epochs": (1, 2)}


def test_the_command_line_takes_every_field_and_a_recorded_configuration(make_config, tmp_path):
    config = make_config(tmp_path)
    PartConfig.of(config, tmp_path / "thresholding.csv").save(tmp_path / "thresholding.json")
    values = parse_arguments(["--config", str(tmp_path / "thresholding.json"), "--num-trials", "4",
                              "--measures", "[mas, fisher@sampled]", "--num-validation-examples", "null"])
    assert BridgeConfig.from_dict(values) == dataclasses.replace(
        config, num_trials=4, measures=["mas", "fisher@sampled"], num_validation_examples=None)


def test_notebook_parameters_are_every_configuration_field():
    notebook = json.loads((ROOT / "bridge.ipynb").read_text())
    (cell,) = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert cell is [c for c in notebook["cells"] if c["cell_type"] == "code"][0]
    names = {line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines()
             if "=" in line and not line.startswith((" ", "#"))}
    assert names == {f.name for f in dataclasses.fields(BridgeConfig)}


def test_a_registered_task_with_another_learning_rate_keeps_its_name_data_and_model():
    from Bridge.tasks import with_learning_rate

    task = with_learning_rate(seed=0, base_task="digits", learning_rate=0.01, labels=[0, 1])
    assert task.name == "digits" and set(task.train[1]) == {0, 1}
    assert float(task.build_model(0).optimizer.learning_rate) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="learning_rate"):
        with_learning_rate(base_task="digits", learning_rate=0)


def test_the_primary_hypothesis_is_recorded_and_part_of_the_identity(make_config, tmp_path):
    config = make_config(tmp_path, aggregation_levels=["weight", "unit"], primary_aggregation_level="unit")
    PartConfig.of(config, tmp_path / "thresholding.csv").save(tmp_path / "thresholding.json")
    recorded = json.loads((tmp_path / "thresholding.json").read_text())
    assert (recorded["primary_thresholding_metric"], recorded["primary_ewc_score"],
            recorded["primary_aggregation_level"]) == ("auc_least", "forgetting_a", "unit")
    assert BridgeConfig.from_dict(parse_arguments(["--config", str(tmp_path / "thresholding.json"),
                                                   "--primary-ewc-score", "average_accuracy"])).primary_ewc_score == (
        "average_accuracy")
    # A resumed study cannot change its declaration.
    assert config.differences(dataclasses.replace(config, primary_ewc_score="average_accuracy")) == {
        "primary_ewc_score": ("forgetting_a", "average_accuracy")}
    # A study recorded before the fields existed reads as the default declaration.
    for name in ("primary_thresholding_metric", "primary_ewc_score", "primary_aggregation_level"):
        recorded.pop(name)
    (tmp_path / "old.json").write_text(json.dumps(recorded))
    old = PartConfig.load(tmp_path / "old.json").study()
    assert (old.primary_thresholding_metric, old.primary_ewc_score, old.primary_aggregation_level) == (
        "auc_least", "forgetting_a", "weight")
