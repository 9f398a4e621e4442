"""Measure labels in the main job: ``NAME@VARIANT`` is NAME with the options under that label, its own curves,
control and saved importances, so two estimators of one measure are compared in one run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import Tasks
import WeightImportance
from Experiment import ExperimentConfig, build_measures, run_experiment
from Experiment.results import thresholding_row
from Runs import paths
from Runs.checkpoints import load_checkpoint
from Schema import THRESHOLDING_COLUMNS, registry_name

OPTIONS = {"fisher@sampled": {"labels": "sampled"}, "fisher": {"num_samples": 40}}


def test_a_label_names_its_registry_measure():
    assert [registry_name(m) for m in ("fisher", "fisher@sampled", "shuffled:fisher@sampled")] == ["fisher"] * 3


def test_each_label_gets_its_own_options_only(make_config, tmp_path):
    config = make_config(tmp_path / "labels.csv", measures=["fisher", "fisher@sampled", "shuffled:fisher@sampled"],
                         measure_options=OPTIONS)
    measures = build_measures(config, seed=3)
    assert list(measures) == ["random", "fisher", "fisher@sampled"]  # the control shares its label's object
    assert (measures["fisher"].labels, measures["fisher"].num_samples) == ("data", 40)
    assert (measures["fisher@sampled"].labels, measures["fisher@sampled"].num_samples) == ("sampled", None)
    assert measures["fisher@sampled"].seed == 3


@pytest.mark.parametrize("measures, message", [
    (["fisher@"], "Unknown measure 'fisher@'"),
    (["nonsense@data"], "NAME@VARIANT"),
])
def test_a_bad_label_is_refused_saying_what_is_valid(make_config, tmp_path, measures, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path / "bad.csv", measures=measures)


def test_an_unknown_option_of_a_label_is_refused(make_config, tmp_path):
    with pytest.raises((TypeError, ValueError), match="nonsense"):
        make_config(tmp_path / "bad.csv", measures=["fisher@x"], measure_options={"fisher@x": {"nonsense": 1}})


def test_two_estimators_of_fisher_run_side_by_side_with_their_own_importances(make_config, tmp_path):
    config = make_config(tmp_path / "two.csv", epochs=1, measures=["fisher", "fisher@sampled",
                                                                   "shuffled:fisher@sampled"],
                         measure_options=OPTIONS, aggregation_levels=["weight"], thresholds=[0, 0.5, 1],
                         save_importances=True)
    run_experiment(config)
    rows = pd.read_csv(config.results_csv)
    assert set(rows["measure"]) == {"random", "fisher", "fisher@sampled", "shuffled:fisher@sampled"}
    assert (rows.groupby("measure").size() == len(config.orders) * len(config.scopes) * 3).all()
    task = Tasks.get_task("digits", seed=0)
    measures = build_measures(config, 0)
    load_checkpoint(paths.checkpoint_file(config.results_csv, 0, 1), task.model, measures)
    data = tuple(a[: config.num_importance_examples] for a in task.train)
    saved = {}
    for label, options in (("fisher", {"num_samples": 40}), ("fisher@sampled", {"labels": "sampled"})):
        file = paths.importances_file(config.results_csv, 0, 1, label)
        info = WeightImportance.read_importances_info(file)
        assert (info["measure"], info["options"]) == (label, options)
        saved[label] = WeightImportance.load_importances(file, task.model)
        for array, computed in zip(saved[label], measures[label].compute(task.model, data), strict=True):
            np.testing.assert_array_equal(array, computed)
    assert not all(np.array_equal(a, b) for a, b in zip(saved["fisher"], saved["fisher@sampled"]))


def test_a_row_has_the_schemas_columns_in_order():
    config = ExperimentConfig(results_csv="unused.csv")

    class Evaluated:
        loss, accuracy, num_examples = 0.5, 0.75, 100

    row = thresholding_row(config, 2, 3, "digits", ("fisher", "weight", "none", "layer", "least"), 0.25, 0.24,
                           (0.1, 0.9), Evaluated(), 2.3)
    assert tuple(row) == THRESHOLDING_COLUMNS
    assert (row["seed"], row["val_loss"], row["num_val_examples_used"], row["loss"]) == (config.seed + 2, 0.5, 100,
                                                                                          0.1)
