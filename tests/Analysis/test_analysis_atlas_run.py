"""The importance atlas on a small digits run with ``save_importances=True``: the removal sets it draws are the
ones ``Aggregation`` draws (mask for mask, so the counts too), the files describe the model, older files are still
read, and ``Data Analysis.py`` picks the folder up beside the results and reports on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import Aggregation
import Tasks
import WeightImportance
from Analysis import paths
from Analysis.atlas_loading import load_importances_folder, read_importance_file
from Analysis.atlas_metrics import rank_weights
from Experiment import ExperimentConfig, run_experiment
from Runs import paths as run_paths

REPOSITORY = Path(__file__).resolve().parents[2]
FRACTIONS = (0.0, 0.1, 0.25, 0.5, 0.7, 1.0)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """One trial of the digits CNN, 1 epoch, magnitude and fisher (and random), weight level, importances saved."""
    results = tmp_path_factory.mktemp("atlas") / "digits.csv"
    config = ExperimentConfig(task="digits", epochs=1, measures=["magnitude", "fisher"], aggregation_levels=["weight"],
                              thresholds=list(FRACTIONS), save_importances=True, num_validation_examples=128,
                              num_train_loss_examples=0, num_importance_examples=128, results_csv=str(results),
                              progress=False)
    run_experiment(config)
    return config, results


def test_the_folder_is_where_the_run_layer_writes_it(digits_run):
    config, results = digits_run
    written = run_paths.importances_file(results, 0, 1, "fisher")
    assert written.is_file()
    assert written.parents[2] == paths.importances_folder(results)
    assert paths.results_csv_of(paths.importances_folder(results)) == Path(results)


@pytest.mark.parametrize("parameters", ["all", "kernels", "no_normalization"])
def test_removal_sets_are_aggregations_mask_for_mask(digits_run, parameters):
    config, results = digits_run
    model = Tasks.get_task("digits", seed=0).model  # the same architecture; rank_groups needs only its layers
    run = load_importances_folder(paths.importances_folder(results))
    for measure, saved in run.at(0, 1).items():
        assert saved.seed == config.trial_seed(0)
        for scope in ("layer", "model", "tensor"):
            for order in ("least", "most"):
                ranking = Aggregation.rank_groups(model, saved.arrays, level="weight", method="mean", scope=scope,
                                                  order=order, seed=saved.seed, parameters=parameters)
                mine = rank_weights(saved, parameters, scope, order, saved.seed)
                np.testing.assert_array_equal(mine.scope_sizes, ranking.scope_num_groups)
                for fraction in FRACTIONS:
                    np.testing.assert_array_equal(mine.cuts(fraction), ranking.num_groups_removed(fraction))
                    for got, want in zip(mine.masks(fraction), ranking.masks(fraction)):
                        np.testing.assert_array_equal(got, want, err_msg=f"{measure} {scope} {order} {fraction}")


def test_the_runs_removed_fractions_are_those_of_the_atlas_sets(digits_run):
    config, results = digits_run
    rows = pd.read_csv(results).query("aggregation_level == 'weight' and scope == 'layer'")
    run = load_importances_folder(paths.importances_folder(results))
    saved = run.at(0, 1)["fisher"]
    for _, row in rows[rows["measure"] == "fisher"].iterrows():
        masks = rank_weights(saved, "all", "layer", row["order"], saved.seed).masks(row["threshold"])
        assert sum(int(m.sum()) for m in masks) / sum(m.size for m in masks) == pytest.approx(row["fraction_removed"])


def test_files_describe_the_model_and_older_files_are_still_read(digits_run, tmp_path):
    config, results = digits_run
    task = Tasks.get_task("digits", seed=0)
    importances = [np.abs(np.asarray(w)) for w in task.model.trainable_weights]
    path = WeightImportance.save_importances(tmp_path / "magnitude.npz", task.model, importances,
                                             measure="magnitude", trial=0, epoch=1)
    info = WeightImportance.read_importances_info(path)
    assert info["format"] == 2 and info["model"]["input_shape"] == [8, 8, 1]
    assert [t["kind"] for t in info["model"]["tensors"][:4]] == ["kernel", "bias", "gamma", "beta"]
    assert [t["keras_class"] for t in info["model"]["tensors"][:3]] == ["Conv2D", "Conv2D", "BatchNormalization"]
    assert [t["layer_index"] for t in info["model"]["tensors"]] == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    saved = read_importance_file(path)
    np.testing.assert_array_equal(saved.first_kernel, np.asarray(task.model.trainable_weights[0], dtype=np.float32))
    assert saved.input_shape == (8, 8, 1) and saved.tensors[0].label == "conv2d/kernel"
    # A file of format 1: the arrays, measure, options, metadata and paths only.
    with np.load(path, allow_pickle=False) as file:
        old = {k: file[k] for k in file.files if k not in ("__model__", "__first_kernel__")}
    old["__format__"] = np.array(1)
    np.savez_compressed(tmp_path / "old.npz", **old)
    assert WeightImportance.read_importances_info(tmp_path / "old.npz")["model"] is None
    for got, want in zip(WeightImportance.load_importances(tmp_path / "old.npz", task.model), importances):
        np.testing.assert_array_equal(got, want)
    old_set = read_importance_file(tmp_path / "old.npz")
    assert not old_set.described and old_set.tensors[2].label == "batch_normalization/gamma"
    ranking = Aggregation.rank_groups(task.model, importances, level="weight", scope="layer", seed=5)
    for got, want in zip(rank_weights(old_set, "all", "layer", "least", 5).masks(0.3), ranking.masks(0.3)):
        np.testing.assert_array_equal(got, want)


def test_data_analysis_picks_the_folder_up_and_reports_on_it(digits_run, tmp_path):
    config, results = digits_run
    out, report = tmp_path / "figures", tmp_path / "report"
    completed = subprocess.run([sys.executable, str(REPOSITORY / "Data Analysis.py"), str(results), "--out", str(out),
                                "--report", str(report), "--dpi", "40"], cwd=REPOSITORY, capture_output=True,
                               text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    text = (report / "report.md").read_text()
    section = text[text.index("## Inside the measures"):text.index("## Configuration")]
    links = [line.split("](")[1].rstrip(")") for line in section.splitlines() if line.startswith("![")]
    assert sorted(Path(link).name for link in links) == sorted(
        paths.atlas_figure(report, kind, "digits", 1).name for kind in paths.ATLAS_FIGURES)
    assert all((report / link).is_file() for link in links)
    overlap = pd.read_csv(out / paths.ATLAS_OVERLAP_CSV)
    assert sorted(overlap["threshold"].unique()) == list(FRACTIONS)  # the run's fractions, from its configuration
    assert set(overlap["order"]) == {"least", "most"}
    agreement = pd.read_csv(out / paths.ATLAS_AGREEMENT_CSV)
    assert set(agreement["tensor"]) >= {"all", "conv2d/kernel", "dense_1/bias"}
    skipped = subprocess.run([sys.executable, str(REPOSITORY / "Data Analysis.py"), str(results), "--out",
                              str(tmp_path / "plain"), "--no-importances", "--dpi", "40"], cwd=REPOSITORY,
                             capture_output=True, text=True, timeout=300)
    assert skipped.returncode == 0, skipped.stderr
    assert not (tmp_path / "plain" / paths.ATLAS_AGREEMENT_CSV).exists()
