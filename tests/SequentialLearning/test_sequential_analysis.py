"""The accuracy-matrix metrics on hand-made matrices, the summary at the best λ, the thresholding-vs-EWC rank
correlation, and Data Analysis.py on sequential results."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import Analysis
from Analysis.statistics import confidence_interval

ROOT = Path(__file__).resolve().parents[2]
nan = np.nan


def test_metrics_of_a_hand_made_matrix():
    matrix = [[0.9, nan, nan],
              [0.7, 0.8, nan],
              [0.6, 0.85, 0.95]]
    metrics = Analysis.matrix_metrics(matrix)
    assert metrics["average_accuracy"] == pytest.approx((0.6 + 0.85 + 0.95) / 3)
    assert metrics["forgetting"] == pytest.approx(((0.9 - 0.6) + (0.8 - 0.85)) / 2)
    assert metrics["backward_transfer"] == pytest.approx(((0.6 - 0.9) + (0.85 - 0.8)) / 2)


def test_forgetting_uses_the_best_earlier_accuracy_and_bwt_the_diagonal():
    matrix = [[0.5, nan, nan],
              [0.8, 0.9, nan],
              [0.6, 0.7, 0.9]]
    metrics = Analysis.matrix_metrics(matrix)
    assert metrics["forgetting"] == pytest.approx(((0.8 - 0.6) + (0.9 - 0.7)) / 2)
    assert metrics["backward_transfer"] == pytest.approx(((0.6 - 0.5) + (0.7 - 0.9)) / 2)
    single = Analysis.matrix_metrics([[0.7]])
    assert single["average_accuracy"] == 0.7 and np.isnan(single["forgetting"])
    with pytest.raises(ValueError, match="square"):
        Analysis.matrix_metrics([[0.1, 0.2]])


def test_run_metrics_from_long_rows_and_incomplete_runs(tmp_path, make_sequential_results):
    path = tmp_path / "seq.csv"
    make_sequential_results(path, {"none": {0: [0.3, 0.2, 0.1]}})
    results = Analysis.load_sequential(path)
    metrics = Analysis.run_metrics(results)
    assert list(metrics["forgetting"].round(6)) == [0.3, 0.2, 0.1]
    assert metrics["average_accuracy"].iloc[0] == pytest.approx((0.6 + 0.95) / 2)
    cut = results.drop(index=results.index[-1])
    assert not Analysis.run_metrics(cut)["complete"].iloc[-1]


def test_summary_is_at_the_best_lambda_with_t_intervals(tmp_path, make_sequential_results):
    path = tmp_path / "seq.csv"
    make_sequential_results(
        path,
        {"none": {0: [0.30, 0.25, 0.35]}, "fisher": {1: [0.10, 0.05, 0.12], 10: [0.0, 0.01, 0.0]}},
        final_new={"fisher": {10: 0.5}},  # λ = 10 forgets nothing but cannot learn the new task
    )
    metrics = Analysis.run_metrics(Analysis.load_sequential(path))
    best = Analysis.best_lambdas(metrics).set_index("measure")["lambda"]
    assert best["fisher"] == 1.0 and best["none"] == 0.0
    summary = Analysis.sequential_summary(metrics).set_index("measure")
    fisher = summary.loc["fisher"]
    assert fisher["num_lambdas"] == 2 and fisher["num_trials"] == 3
    assert fisher["forgetting_mean"] == pytest.approx(0.09)
    low, high = confidence_interval([0.10, 0.05, 0.12])
    assert (fisher["forgetting_ci_low"], fisher["forgetting_ci_high"]) == pytest.approx((low, high))
    assert fisher["backward_transfer_mean"] == pytest.approx(-0.09)
    assert fisher["rank"] == 1 and summary.loc["none", "rank"] == 2
    assert fisher["forgetting_p_vs_none"] < 0.05
    assert "fisher" in Analysis.format_sequential_summary(summary.reset_index())


def test_sequential_files_are_keyed_like_thresholding_files(tmp_path, make_sequential_results):
    # One trial-keying policy for both kinds of results (Analysis.loading): complementary files pair their trials.
    first, second = tmp_path / "none.csv", tmp_path / "fisher.csv"
    make_sequential_results(first, {"none": {0: [0.3, 0.25, 0.35]}})
    make_sequential_results(second, {"fisher": {1: [0.1, 0.05, 0.12]}})
    results = Analysis.load_sequential([first, second])
    assert sorted(results["trial"].unique()) == [0, 1, 2]
    summary = Analysis.sequential_summary(Analysis.run_metrics(results)).set_index("measure")
    assert summary.loc["fisher", "forgetting_p_vs_none"] < 0.05  # paired over the three shared trials

    # The same trial ids from other seeds are other models: kept apart, renumbered, never paired.
    reseeded = tmp_path / "reseeded.csv"
    frame = pd.read_csv(second)
    frame.assign(seed=frame["seed"] + 10).to_csv(reseeded, index=False)
    with pytest.warns(UserWarning, match="renumbered"):
        results = Analysis.load_sequential([first, reseeded])
    assert results["trial"].nunique() == 6
    assert (results.groupby("trial")["seed"].nunique() == 1).all()
    summary = Analysis.sequential_summary(Analysis.run_metrics(results)).set_index("measure")
    assert np.isnan(summary.loc["fisher", "forgetting_p_vs_none"])

    # The same rows in two files are two runs each.
    copy = tmp_path / "copy.csv"
    copy.write_text(first.read_text())
    with pytest.warns(UserWarning, match="renumbered"):
        results = Analysis.load_sequential([first, copy])
    assert results["trial"].nunique() == 6 and set(results["source_trial"]) == {0, 1, 2}


def test_run_sequential_analysis_warns_when_the_bridge_cannot_be_computed(tmp_path, make_sequential_results,
                                                                          make_thresholding_results):
    sequential, thresholding = tmp_path / "seq.csv", tmp_path / "thr.csv"
    make_sequential_results(sequential, {"none": {0: [0.4] * 3}, "fisher": {1: [0.1, 0.2, 0.1]}})
    make_thresholding_results(thresholding, {"random": 2.0, "fisher": 0.5}, task="other")
    with pytest.warns(UserWarning, match="thresholding vs EWC not computed: No task in both experiments"):
        analysis = Analysis.run_sequential_analysis(sequential, tmp_path / "out", thresholding=thresholding)
    assert analysis.bridge is None
    assert (tmp_path / "out" / "sequential_summary.csv").is_file()
    assert not (tmp_path / "out" / "thresholding_vs_ewc.csv").exists()


def _experiments(tmp_path, make_sequential_results, make_thresholding_results, reverse=False):
    forgetting = {"none": {0: [0.4, 0.4, 0.4]}, "uniform": {1: [0.3, 0.3, 0.3]},
                  "random": {1: [0.25, 0.27, 0.26]}, "magnitude": {1: [0.18, 0.2, 0.19]},
                  "si": {1: [0.1, 0.12, 0.11]}, "fisher": {1: [0.02, 0.03, 0.01]}}
    slopes = {"random": 2.0, "magnitude": 1.5, "si": 1.0, "fisher": 0.5}
    if reverse:
        slopes = {m: 2.5 - s for m, s in slopes.items()}
    sequential, thresholding = tmp_path / "seq.csv", tmp_path / "thr.csv"
    make_sequential_results(sequential, forgetting)
    make_thresholding_results(thresholding, slopes)
    return thresholding, sequential


@pytest.mark.parametrize("reverse", [False, True])
def test_thresholding_vs_ewc_rank_correlation(tmp_path, make_sequential_results, make_thresholding_results, reverse):
    thresholding, sequential = _experiments(tmp_path, make_sequential_results, make_thresholding_results, reverse)
    bridge = Analysis.thresholding_vs_ewc(Analysis.load_results(thresholding), Analysis.load_sequential(sequential))
    assert bridge.num_measures == 4  # none and uniform have no thresholding curve
    assert set(bridge.table["measure"]) == {"random", "magnitude", "si", "fisher"}
    assert bridge.rho == pytest.approx(-1.0 if reverse else 1.0)
    assert bridge.ci_low <= bridge.rho <= bridge.ci_high
    assert bridge.options["order"] == "least" and bridge.options["aggregation_level"] == "weight"
    assert "Spearman rho" in bridge.describe()
    fisher_z = Analysis.thresholding_vs_ewc(Analysis.load_results(thresholding),
                                            Analysis.load_sequential(sequential), ci_method="fisher_z")
    assert fisher_z.ci_low <= fisher_z.rho <= fisher_z.ci_high
    with pytest.raises(ValueError, match="no order"):
        Analysis.thresholding_vs_ewc(Analysis.load_results(thresholding), Analysis.load_sequential(sequential),
                                     order="most")


@pytest.mark.smoke
def test_data_analysis_cli_reports_sequential_results_and_the_bridge(tmp_path, make_sequential_results,
                                                                    make_thresholding_results):
    thresholding, sequential = _experiments(tmp_path, make_sequential_results, make_thresholding_results)
    out = tmp_path / "figures"
    run = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), str(thresholding), "--sequential",
                          str(sequential), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "best lambda" in run.stdout and "Spearman rho = 1.000" in run.stdout
    for name in ("sequential_summary.csv", "thresholding_vs_ewc.csv", "sequential_report.md",
                 "accuracy-matrices_digits_split.png", "forgetting_digits_split.png", "summary.csv"):
        assert (out / name).exists(), name
    summary = pd.read_csv(out / "sequential_summary.csv")
    assert set(summary["measure"]) == {"none", "uniform", "random", "magnitude", "si", "fisher"}

    alone = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), str(sequential), "--out",
                            str(tmp_path / "alone")], capture_output=True, text=True, cwd=ROOT)
    assert alone.returncode == 0, alone.stderr
    assert "forgetting" in alone.stdout and not (tmp_path / "alone" / "summary.csv").exists()
