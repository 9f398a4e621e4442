import json
import warnings

import numpy as np
import pandas as pd
import pytest

from Analysis.columns import RESULT_COLUMNS
from Analysis.loading import load_config, load_results, select_results
from Analysis.metrics import trial_metrics


def test_load_one_file_keeps_the_contract_columns_and_adds_the_source(tmp_path, make_results):
    path = tmp_path / "run.csv"
    make_results(num_trials=2).to_csv(path, index=False)
    results = load_results(path)
    assert list(results.columns[: len(RESULT_COLUMNS)]) == list(RESULT_COLUMNS)
    assert set(results["source"]) == {str(path)}
    assert (results["trial"] == results["source_trial"]).all()
    assert sorted(results["trial"].unique()) == [0, 1]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.csv does not exist"):
        load_results(tmp_path / "nothere.csv")


def test_missing_columns_are_named(tmp_path, make_results):
    path = tmp_path / "bad.csv"
    make_results(num_trials=1).drop(columns=["chance_val_loss", "scope"]).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"lacks the columns \['scope', 'chance_val_loss'\]"):
        load_results(path)


def test_empty_file_and_header_only_file(tmp_path, make_results):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        load_results(empty)
    header = tmp_path / "header.csv"
    make_results(num_trials=1).iloc[:0].to_csv(header, index=False)
    with pytest.raises(ValueError, match="no rows"):
        load_results(header)


def test_non_numeric_values_are_reported(tmp_path, make_results):
    path = tmp_path / "text.csv"
    results = make_results(num_trials=1)
    results["val_loss"] = results["val_loss"].astype(object)
    results.loc[3, "val_loss"] = "oops"
    results.to_csv(path, index=False)
    with pytest.raises(ValueError, match="'val_loss'.*must be numeric.*oops"):
        load_results(path)


def test_selection_that_matches_nothing_lists_the_available_values(tmp_path, make_results):
    path = tmp_path / "run.csv"
    make_results(num_trials=1, epochs=(1, 2)).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"No results have epoch in \[7\]; available values of epoch: \[1, 2\]"):
        load_results(path, epoch=7)
    with pytest.raises(ValueError, match="no such column"):
        load_results(path, colour="red")
    assert set(load_results(path, epoch=[2])["epoch"]) == {2}


def test_measure_selection_keeps_the_random_baseline(make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0, "fisher": 2.0}, num_trials=1)
    assert set(select_results(results, measure="fisher")["measure"]) == {"fisher", "random"}
    assert set(select_results(results, measure="fisher", keep_baseline=False)["measure"]) == {"fisher"}


def test_same_trial_ids_with_different_seeds_stay_distinct(tmp_path, make_results):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    make_results(num_trials=3, first_seed=0, seed=1).to_csv(first, index=False)
    make_results(num_trials=3, first_seed=10, seed=2).to_csv(second, index=False)
    with pytest.warns(UserWarning, match="renumbered"):
        results = load_results([first, second])
    assert results["trial"].nunique() == 6
    per_trial = results.groupby("trial").agg(source=("source", "nunique"), seed=("seed", "nunique"))
    assert (per_trial["source"] == 1).all() and (per_trial["seed"] == 1).all()
    assert sorted(results.loc[results["source"] == str(second), "source_trial"].unique()) == [0, 1, 2]


def test_identical_keys_in_two_files_stay_distinct(tmp_path, make_results):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    make_results(num_trials=2).to_csv(first, index=False)
    make_results(num_trials=2).to_csv(second, index=False)
    with pytest.warns(UserWarning, match="renumbered"):
        results = load_results([first, second])
    assert results["trial"].nunique() == 4
    assert len(results) == 2 * len(pd.read_csv(first))


def test_complementary_files_of_the_same_trials_are_paired(tmp_path, make_results):
    # One run scored magnitude, another fisher, from the same seeds: same trials, no overlapping rows.
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    make_results({"random": 1.0, "magnitude": 3.0}, num_trials=3).to_csv(first, index=False)
    make_results({"fisher": 2.0}, num_trials=3).to_csv(second, index=False)
    results = load_results([first, second])
    assert sorted(results["trial"].unique()) == [0, 1, 2]
    assert set(results.loc[results["trial"] == 0, "measure"]) == {"random", "magnitude", "fisher"}


def test_disjoint_trial_ids_keep_their_ids(tmp_path, make_results):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    make_results(num_trials=2).to_csv(first, index=False)
    make_results(num_trials=2, first_trial=2, first_seed=2).to_csv(second, index=False)
    results = load_results([first, second])
    assert sorted(results["trial"].unique()) == [0, 1, 2, 3]


def test_the_same_file_twice_is_an_error(tmp_path, make_results):
    path = tmp_path / "run.csv"
    make_results(num_trials=1).to_csv(path, index=False)
    with pytest.raises(ValueError, match="given twice"):
        load_results([path, path])


def test_configuration_beside_the_csv(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"task": "digits", "seed": 0}))
    assert load_config(tmp_path / "run.csv") == {"task": "digits", "seed": 0}
    assert load_config(tmp_path / "other.csv") is None


def test_empty_labels_become_none(tmp_path, make_results):
    path = tmp_path / "run.csv"
    results = make_results(num_trials=1)
    results["aggregation_method"] = None
    results.to_csv(path, index=False)
    assert set(load_results(path)["aggregation_method"]) == {"none"}


def test_results_without_the_parameters_column_read_as_all_and_new_ones_group_by_it(tmp_path, make_results):
    old, new = tmp_path / "old.csv", tmp_path / "kernels.csv"
    make_results(num_trials=2, orders=("least",)).drop(columns="parameters").to_csv(old, index=False)
    kernels = make_results(num_trials=2, orders=("least",))  # the same trials, kernels thresholded
    kernels.assign(parameters="kernels").to_csv(new, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = load_results([old, new])
    assert set(results.loc[results["source"] == str(old), "parameters"]) == {"all"}
    metrics = trial_metrics(results)
    assert sorted(results["trial"].unique()) == [0, 1]  # rows differ by parameters alone: one trial each
    assert set(metrics["parameters"]) == {"all", "kernels"}
    assert len(metrics) == 2 * 2 * 2  # trials x measures x parameters


def test_a_curve_missing_thresholds_of_its_linear_grid_is_named(tmp_path, make_results):
    path = tmp_path / "run.csv"
    results = make_results(num_trials=2, orders=("least",))
    cut = (results["trial"] == 1) & (results["measure"] == "magnitude") & (results["threshold"] > 0.85)
    results[~cut].to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"1 curves of .*run.csv lack thresholds.*trial 1, task digits, epoch 1, "
                                         r"measure magnitude, weight/mean, scope layer, order least, parameters all, "
                                         r"replacement noise lacks thresholds \[0.9, 1\]"):
        load_results(path)


def test_curves_of_an_adaptive_grid_may_differ_without_a_warning(tmp_path, make_results, make_uneven_results):
    path = tmp_path / "run.csv"
    make_uneven_results(make_results(num_trials=2, num_thresholds=17), num_kept=8).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="lack thresholds"):
        load_results(path)  # no configuration: taken as a linear grid
    path.with_suffix(".json").write_text(json.dumps({"threshold_spacing": "adaptive", "num_thresholds": 8}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_results(path)


def test_a_curve_missing_thresholds_of_its_geometric_grid_is_named(tmp_path, make_results):
    # Geometric fractions are the same for every curve, as linear ones: a curve lacking some was cut short.
    path = tmp_path / "run.csv"
    results = make_results(num_trials=2, orders=("least",), num_thresholds=6)
    fractions = [0.0, 0.01, 0.0316227766, 0.1, 0.316227766, 1.0]
    results["threshold"] = results["fraction_removed"] = results["threshold"].map(
        dict(zip(sorted(results["threshold"].unique()), fractions)))
    cut = (results["trial"] == 0) & (results["measure"] == "random") & (results["threshold"] == 1.0)
    results[~cut].to_csv(path, index=False)
    path.with_suffix(".json").write_text(json.dumps({"threshold_spacing": "geometric", "num_thresholds": 6}))
    with pytest.warns(UserWarning, match=r"1 curves of .*run.csv lack thresholds that other curves of the same "
                                         r"geometric grid have.*trial 0, .*measure random.* lacks thresholds \[1\]"):
        load_results(path)
    results.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_results(path)  # complete: no warning


def test_a_nan_is_named_with_its_column(tmp_path, make_results):
    path = tmp_path / "run.csv"
    results = make_results(num_trials=1, orders=("least",))
    results.loc[(results["measure"] == "magnitude") & (results["threshold"] == 0.5), "val_loss"] = np.nan
    results.to_csv(path, index=False)
    with pytest.warns(UserWarning) as caught:
        loaded = load_results(path)
    messages = [str(w.message) for w in caught]
    assert any("Column 'val_loss'" in m and "1 rows" in m and "measure magnitude" in m and "threshold [0.5]" in m
               for m in messages), messages
    assert not any("chance_val_loss" in m for m in messages)
    with pytest.warns(UserWarning, match="1 curves have a NaN 'val_loss' at some threshold"):
        metrics = trial_metrics(loaded)
    assert metrics.set_index("measure")["auc"].isna().to_dict() == {"magnitude": True, "random": False}
