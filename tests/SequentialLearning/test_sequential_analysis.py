"""The accuracy-matrix metrics on hand-made matrices, the summary at the best λ (chosen on the reported data, so
never tested against ``none``), and Data Analysis.py on sequential results."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import Analysis
from Analysis.sequential_metrics import LAMBDA_CHOICE_NOTE, at_best_lambda
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
    assert fisher["rank"] == 1 and pd.isna(summary.loc["none", "rank"])  # none is shown, never ranked
    assert "forgetting_p_vs_none" not in summary.columns
    assert "fisher" in Analysis.format_sequential_summary(summary.reset_index())


def test_sequential_files_are_keyed_like_thresholding_files(tmp_path, make_sequential_results):
    # One trial-keying policy for both kinds of results (Analysis.loading): complementary files pair their trials.
    first, second = tmp_path / "none.csv", tmp_path / "fisher.csv"
    make_sequential_results(first, {"none": {0: [0.3, 0.25, 0.35]}})
    make_sequential_results(second, {"fisher": {1: [0.1, 0.05, 0.12]}})
    results = Analysis.load_sequential([first, second])
    assert sorted(results["trial"].unique()) == [0, 1, 2]
    assert set(results.loc[results["measure"] == "fisher", "trial"]) == {0, 1, 2}  # the trials of none

    # The same trial ids from other seeds are other models: kept apart, renumbered, never paired.
    reseeded = tmp_path / "reseeded.csv"
    frame = pd.read_csv(second)
    frame.assign(seed=frame["seed"] + 10).to_csv(reseeded, index=False)
    with pytest.warns(UserWarning, match="renumbered"):
        results = Analysis.load_sequential([first, reseeded])
    assert results["trial"].nunique() == 6
    assert (results.groupby("trial")["seed"].nunique() == 1).all()
    fisher_trials = set(results.loc[results["measure"] == "fisher", "trial"])
    assert len(fisher_trials) == 3 and fisher_trials.isdisjoint(results.loc[results["measure"] == "none", "trial"])

    # The same rows in two files are two runs each.
    copy = tmp_path / "copy.csv"
    copy.write_text(first.read_text())
    with pytest.warns(UserWarning, match="renumbered"):
        results = Analysis.load_sequential([first, copy])
    assert results["trial"].nunique() == 6 and set(results["source_trial"]) == {0, 1, 2}


# Forgetting drawn from one distribution for every run (seeded normal, mean 0.3, sd 0.05, rounded): none and
# fisher differ only by noise. fisher has 7 λ, none 1; fisher's best λ (here 3) is its luckiest of 7 draws.
LAMBDAS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
NOISE = {"none": {0: [0.3, 0.315, 0.286]},
         "fisher": dict(zip(LAMBDAS, [[0.255, 0.277, 0.25], [0.303, 0.367, 0.275], [0.269, 0.324, 0.318],
                                      [0.305, 0.253, 0.299], [0.335, 0.233, 0.277], [0.205, 0.236, 0.208],
                                      [0.288, 0.237, 0.314]]))}


def test_lambda_chosen_on_the_reported_data_is_never_tested_against_none(tmp_path, make_sequential_results):
    path = tmp_path / "seq.csv"
    make_sequential_results(path, NOISE)
    metrics = Analysis.run_metrics(Analysis.load_sequential(path))
    # The comparison the summary no longer makes: at fisher's best λ, a paired t-test "finds" less forgetting.
    best = at_best_lambda(metrics).set_index(["measure", "trial"])["forgetting"]
    assert at_best_lambda(metrics).set_index("measure").loc["fisher", "lambda"].iloc[0] == 3.0
    assert Analysis.paired_test(best["fisher"].to_numpy(), best["none"].to_numpy()).p_value < 0.01

    summary = Analysis.sequential_summary(metrics).set_index("measure")
    assert not any("p_vs" in column or "none" in column for column in summary.columns)
    assert summary.loc["fisher", "num_lambdas"] == 7 and summary.loc["none", "num_lambdas"] == 1
    assert summary.loc["fisher", "rank"] == 1 and pd.isna(summary.loc["none", "rank"])
    assert summary.loc["fisher", "forgetting_mean"] == pytest.approx(np.mean([0.205, 0.236, 0.208]))

    analysis = Analysis.run_sequential_analysis(path, tmp_path / "out")
    report = (tmp_path / "out" / "sequential_report.md").read_text()
    assert LAMBDA_CHOICE_NOTE in report and "chosen on the same evaluations reported here" in report
    assert "p vs none" not in report and "p:" not in report
    text = Analysis.format_sequential_summary(analysis.summary)
    assert "p vs none" not in text and "of lambdas" in text


@pytest.mark.smoke
def test_data_analysis_cli_reports_sequential_results_beside_thresholding(tmp_path, make_sequential_results,
                                                                         make_thresholding_results):
    forgetting = {"none": {0: [0.4, 0.4, 0.4]}, "uniform": {1: [0.3, 0.3, 0.3]},
                  "random": {1: [0.25, 0.27, 0.26]}, "magnitude": {1: [0.18, 0.2, 0.19]},
                  "si": {1: [0.1, 0.12, 0.11]}, "fisher": {1: [0.02, 0.03, 0.01]}}
    sequential, thresholding = tmp_path / "seq.csv", tmp_path / "thr.csv"
    make_sequential_results(sequential, forgetting)
    make_thresholding_results(thresholding, {"random": 2.0, "magnitude": 1.5, "si": 1.0, "fisher": 0.5})
    out = tmp_path / "figures"
    run = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), str(thresholding), "--sequential",
                          str(sequential), "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "best lambda" in run.stdout and "chosen on the same evaluations" in run.stdout
    assert "Spearman rho" not in run.stdout and "p vs none" not in run.stdout
    for name in ("sequential_summary.csv", "sequential_report.md", "accuracy-matrices_digits_split.png",
                 "forgetting_digits_split.png", "summary.csv"):
        assert (out / name).exists(), name
    assert not (out / "thresholding_vs_ewc.csv").exists()  # the bridge is the bridge study's (--bridge DIR)
    summary = pd.read_csv(out / "sequential_summary.csv")
    assert set(summary["measure"]) == {"none", "uniform", "random", "magnitude", "si", "fisher"}

    alone = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), str(sequential), "--out",
                            str(tmp_path / "alone")], capture_output=True, text=True, cwd=ROOT)
    assert alone.returncode == 0, alone.stderr
    assert "forgetting" in alone.stdout and not (tmp_path / "alone" / "summary.csv").exists()


@pytest.mark.parametrize("option", [["--bridge-ci", "fisher_z"], ["--bridge-ci=bootstrap"]])
def test_data_analysis_cli_has_no_bridge_ci_option(tmp_path, make_sequential_results, option):
    sequential = tmp_path / "seq.csv"
    make_sequential_results(sequential, {"none": {0: [0.4] * 3}, "fisher": {1: [0.1, 0.2, 0.1]}})
    out = tmp_path / "figures"
    run = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), "--sequential", str(sequential), *option,
                          "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2 and run.stdout == ""
    assert f"error: unrecognized arguments: {option[0]}" in run.stderr
    assert "[--bridge DIR [DIR ...]]" in run.stderr  # the usage names the bridge study's option
    assert not out.exists()
