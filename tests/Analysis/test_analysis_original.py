"""Results in the original toolkit's two layouts, written here in its exact column layout (leading index column
included), read by ``load_results`` and analysed by ``Data Analysis.py`` like this toolkit's own CSVs."""

import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import Analysis
from Analysis.columns import RESULT_COLUMNS

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPT = REPOSITORY / "Data Analysis.py"
PER_TRIAL_HEADER = ",Epoch,EWC Method,Aggregation Level,Threshold Value,Loss,Validation Loss"
AGGREGATED_HEADER = (",Epoch,Ewc Method,Aggregation Level,Threshold Value,Loss Mean,Loss Err,Validation Loss Mean,"
                     "Validation Loss Err")
# What each name the original can write must read as (written out by hand, not taken from the module).
EXPECTED_MEASURES = {
    "FISHER_MATRIX": "fisher", "SIGN_FLIPPING": "sign_flips", "MOMENTUM_BASED": "momentum_changes",
    "WEIGHT_CHANGE": "weight_change", "WEIGHT_MAGNITUDE": "magnitude",
    "INVERSE_WEIGHT_MAGNITUDE": "inverse_magnitude", "RANDOM": "random",
}
EXPECTED_LEVELS = {"NO_AGGREGATION": ("weight", "none"), "UNIT": ("unit", "mean"), "CONV_FILTER": ("filter", "mean")}
LN10 = math.log(10)
INITIAL_LOSS = 0.1


def original_trial(exponents, epochs=(5,), levels=tuple(EXPECTED_LEVELS), num_samples=4, spread=0.0, seed=0,
                   chance=LN10) -> pd.DataFrame:
    """One trial in the original's per-trial layout: validation loss ``L0 + (chance - L0) t^p``, ``p`` per measure
    (scaled by ``1 + spread N(0, 1)``), training loss half of it; thresholds ``i / num_samples`` computed as its
    script did."""
    rng = np.random.default_rng(seed)
    thresholds = [(1 / num_samples) * i for i in range(num_samples + 1)]
    rows = []
    for epoch in epochs:
        for name, exponent in exponents.items():
            for level in levels:
                power = exponent * (1 + spread * rng.standard_normal())
                for t in thresholds:
                    val_loss = INITIAL_LOSS + (chance - INITIAL_LOSS) * t ** power
                    rows.append([epoch, name, level, t, val_loss / 2, val_loss])
    return pd.DataFrame(rows, columns=PER_TRIAL_HEADER.split(",")[1:])


def write_trials(folder: Path, exponents, trials=(0, 1, 2, 3), **options) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in trials:
        path = folder / f"validation_loss_over_threshold_TRIAL_{k}.csv"
        original_trial(exponents, seed=k, **options).to_csv(path)  # with its index, as the original wrote
        paths.append(path)
    assert paths[0].read_text().splitlines()[0] == PER_TRIAL_HEADER
    return paths


def write_aggregated(path: Path, trial_paths) -> Path:
    """The original's AggregatedData.csv of ``trial_paths``: mean and std / N per (epoch, measure, level, t)."""
    trials = pd.concat([pd.read_csv(p, index_col=0) for p in trial_paths], ignore_index=True)
    keys = ["Epoch", "EWC Method", "Aggregation Level", "Threshold Value"]
    grouped = trials.groupby(keys)
    table = grouped.mean().reset_index()
    spread = grouped.std().reset_index()
    aggregated = pd.DataFrame({
        "Epoch": table["Epoch"], "Ewc Method": table["EWC Method"], "Aggregation Level": table["Aggregation Level"],
        "Threshold Value": table["Threshold Value"], "Loss Mean": table["Loss"],
        "Loss Err": spread["Loss"] / len(trial_paths), "Validation Loss Mean": table["Validation Loss"],
        "Validation Loss Err": spread["Validation Loss"] / len(trial_paths),
    })
    aggregated.to_csv(path)
    assert path.read_text().splitlines()[0] == AGGREGATED_HEADER
    return path


def run_cli(*arguments):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], cwd=REPOSITORY, capture_output=True,
                          text=True, timeout=180)


def test_per_trial_files_read_as_this_toolkits_schema(tmp_path):
    exponents = {name: 1.0 + i for i, name in enumerate(EXPECTED_MEASURES)}
    paths = write_trials(tmp_path, exponents, trials=(3, 11), epochs=(5, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = Analysis.load_results(paths)
    assert list(results.columns[: len(RESULT_COLUMNS)]) == list(RESULT_COLUMNS)
    raw = pd.concat([pd.read_csv(p, index_col=0).assign(trial=k) for p, k in zip(paths, (3, 11))],
                    ignore_index=True)
    assert len(results) == len(raw) == 2 * 2 * 7 * 3 * 5
    assert results["measure"].tolist() == raw["EWC Method"].map(EXPECTED_MEASURES).tolist()
    assert results["aggregation_level"].tolist() == [EXPECTED_LEVELS[v][0] for v in raw["Aggregation Level"]]
    assert results["aggregation_method"].tolist() == [EXPECTED_LEVELS[v][1] for v in raw["Aggregation Level"]]
    assert results["trial"].tolist() == raw["trial"].tolist()  # from the file names, kept as they are
    assert (results["source_trial"] == results["trial"]).all()
    assert results["epoch"].tolist() == raw["Epoch"].tolist()  # its Epoch already counts the epochs finished
    assert np.array_equal(results["threshold"], raw["Threshold Value"])
    assert np.array_equal(results["fraction_removed"], raw["Threshold Value"])
    assert np.array_equal(results["val_loss"], raw["Validation Loss"])
    assert np.array_equal(results["loss"], raw["Loss"])
    assert results[["accuracy", "val_accuracy"]].isna().all().all()
    assert (results["chance_val_loss"] == LN10).all()
    for column, value in {"scope": "layer", "order": "least", "replacement": "noise", "parameters": "all",
                          "seed": -1, "task": "original"}.items():
        assert set(results[column]) == {value}, column


def test_the_chance_level_is_an_option_and_sets_the_normalized_auc(tmp_path):
    # A curve L0 + (Lc - L0) t^2 on t = 0, 1/4, ..., 1: trapezoid area of t^2 is 0.34375, so with chance c the
    # normalized AUC is (Lc - L0) 0.34375 / (c - L0).
    paths = write_trials(tmp_path, {"FISHER_MATRIX": 2.0, "RANDOM": 1.0}, levels=("NO_AGGREGATION",))
    for chance, expected in ((None, 0.34375), (3.0, (LN10 - INITIAL_LOSS) * 0.34375 / (3.0 - INITIAL_LOSS))):
        results = Analysis.load_results(paths, chance_loss=chance)
        assert (results["chance_val_loss"] == (LN10 if chance is None else chance)).all()
        metrics = Analysis.trial_metrics(results).set_index("measure")
        assert np.allclose(metrics.loc["fisher", "normalized_auc"], expected, rtol=1e-12, atol=0)
        if chance is None:
            assert np.allclose(metrics.loc["random", "normalized_auc"], 0.5, rtol=1e-12, atol=0)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="chance_loss must be a positive finite loss"):
            Analysis.load_results(paths, chance_loss=bad)


def test_chance_loss_with_this_toolkits_own_results_warns_that_it_is_ignored(tmp_path, make_results):
    path = tmp_path / "run.csv"
    make_results(num_trials=1).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="chance_loss=3.0 is ignored"):
        results = Analysis.load_results(path, chance_loss=3.0)
    assert (results["chance_val_loss"] == 2.5).all()


def test_unknown_names_are_an_error_listing_the_known_ones(tmp_path):
    path = write_trials(tmp_path, {"FISHER_MATRIX": 2.0, "SALIENCY": 1.0}, trials=(0,))[0]
    with pytest.raises(ValueError, match=r"measure names \['SALIENCY'\]") as error:
        Analysis.load_results(path)
    assert all(name in str(error.value) for name in EXPECTED_MEASURES)
    path = write_trials(tmp_path, {"WEIGHT_DECAY": 1.0}, trials=(1,))[0]
    with pytest.raises(ValueError, match=r"WEIGHT_DECAY.*removed nothing at any threshold"):
        Analysis.load_results(path)
    path = write_trials(tmp_path, {"RANDOM": 1.0}, trials=(2,), levels=("LAYER",))[0]
    with pytest.raises(ValueError, match=r"aggregation level names \['LAYER'\].*'NO_AGGREGATION', 'UNIT', "
                                         r"'CONV_FILTER'"):
        Analysis.load_results(path)


def test_a_file_with_the_originals_columns_but_neither_layout_is_named(tmp_path):
    path = write_trials(tmp_path, {"RANDOM": 1.0}, trials=(0,))[0]
    pd.read_csv(path, index_col=0).drop(columns="Aggregation Level").to_csv(path)
    with pytest.raises(ValueError, match=r"per-trial layout lacks \['Aggregation Level'\]"):
        Analysis.load_results(path)


def test_a_file_name_without_a_trial_is_one_trial_and_repeated_trial_ids_are_kept_apart(tmp_path):
    first = write_trials(tmp_path / "a", {"FISHER_MATRIX": 2.0, "RANDOM": 1.0}, trials=(0,))[0]
    second = tmp_path / "cifar10_validation_loss_over_threshold.csv"
    second.write_bytes(first.read_bytes())
    with pytest.warns(UserWarning, match="renumbered"):
        results = Analysis.load_results([first, second])
    assert sorted(results.groupby("source")["source_trial"].first()) == [0, 0]
    assert sorted(results["trial"].unique()) == [0, 1]


def test_aggregated_layout_gives_curves_and_means_but_no_trial_statistics(tmp_path):
    trials = write_trials(tmp_path / "trials", {"FISHER_MATRIX": 3.0, "RANDOM": 1.0}, spread=0.2,
                          levels=("NO_AGGREGATION", "CONV_FILTER"))
    aggregated = write_aggregated(tmp_path / "AggregatedData.csv", trials)
    results = Analysis.load_results(aggregated)
    assert set(results["trial"]) == {0}
    assert set(results["measure"]) == {"fisher", "random"}
    assert set(results["aggregation_level"]) == {"weight", "filter"}
    analysis = Analysis.analyze(results)
    per_trial = Analysis.analyze(Analysis.load_results(trials))
    # The (normalized) AUC is linear in the losses, so that of the mean curve is the mean of the trials' ones.
    keys = ["epoch", "measure", "aggregation_level"]
    mean_curve = analysis.summary.set_index(keys)["normalized_auc_mean"].sort_index()
    mean_of_trials = per_trial.summary.set_index(keys)["normalized_auc_mean"].sort_index()
    assert np.allclose(mean_curve, mean_of_trials, rtol=1e-12, atol=0)
    assert analysis.summary["normalized_auc_ci_low"].isna().all()
    assert per_trial.summary["normalized_auc_ci_low"].notna().all()
    assert analysis.comparisons["p_holm"].isna().all()

    report = (Path(Analysis.write_report(results, tmp_path / "report", analysis=analysis))).read_text()
    assert "`AggregatedData.csv` holds the original toolkit's means over trials, not its trials" in report
    assert "no confidence intervals, paired tests or agreement across trials can be computed" in report
    assert "run 3 or more trials" not in report
    assert "## Curves" in report and (tmp_path / "report" / "curves_original_epoch5_weight_none.png").is_file()
    assert "1 in its aggregated layout" in report


def test_an_aggregated_file_given_with_its_trials_is_refused(tmp_path):
    trials = write_trials(tmp_path / "trials", {"FISHER_MATRIX": 3.0, "RANDOM": 1.0})
    aggregated = write_aggregated(tmp_path / "AggregatedData.csv", trials)
    with pytest.raises(ValueError, match="means would count as one more trial"):
        Analysis.load_results([*trials, aggregated])


def test_cli_on_per_trial_files_writes_what_it_writes_for_this_toolkits_csvs(tmp_path):
    paths = write_trials(tmp_path / "data", {"FISHER_MATRIX": 3.0, "SIGN_FLIPPING": 1.5, "RANDOM": 1.0},
                         epochs=(5, 10), spread=0.05)
    figures, report = tmp_path / "figures", tmp_path / "report"
    completed = run_cli(*paths, "--out", figures, "--report", report, "--dpi", "40")
    assert completed.returncode == 0, completed.stderr
    assert "fisher is better than random" in completed.stdout
    assert "normalized_auc [95% CI]" in completed.stdout
    summary = pd.read_csv(figures / "summary.csv")
    assert len(summary) == 3 * 2 * 3  # measures x epochs x levels
    assert (summary["num_trials"] == 4).all() and summary["normalized_auc_ci_low"].notna().all()
    pngs = sorted(p.name for p in figures.glob("*.png"))
    for prefix in ("curves_", "aggregations_", "overview_", "significance_", "stability_"):
        assert any(name.startswith(prefix) for name in pngs), prefix
    for table in ("trial_metrics.csv", "comparisons.csv", "curves.csv", "stability.csv"):
        assert (figures / table).is_file(), table
    text = (report / "report.md").read_text()
    for heading in ("## Results in the original toolkit's layout", "## Curves", "## Ranking", "## Significance",
                    "## Stability of the ranking"):
        assert heading in text, heading
    assert "`FISHER_MATRIX` → `fisher`" in text and "`CONV_FILTER` → `filter` (method `mean`)" in text
    assert "The chance level Lc is 2.3026" in text and "ln 10" in text
    assert "fisher is better than random" in text

    completed = run_cli(*paths, "--out", tmp_path / "chance", "--chance-loss", "3", "--epoch", "5")
    assert completed.returncode == 0, completed.stderr
    metrics = pd.read_csv(tmp_path / "chance" / "trial_metrics.csv")
    assert (metrics["chance_loss"] == 3.0).all()


def test_cli_on_the_aggregated_file_skips_the_trial_statistics_and_says_why(tmp_path):
    trials = write_trials(tmp_path / "trials", {"FISHER_MATRIX": 3.0, "RANDOM": 1.0}, epochs=(5, 10))
    aggregated = write_aggregated(tmp_path / "AggregatedData.csv", trials)
    figures, report = tmp_path / "figures", tmp_path / "report"
    completed = run_cli(aggregated, "--out", figures, "--report", report, "--dpi", "40")
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert "Note: `AggregatedData.csv` holds the original toolkit's means over trials" in completed.stdout
    assert "run 3 or more trials" not in completed.stdout
    pngs = sorted(p.name for p in figures.glob("*.png"))
    assert any(name.startswith("curves_") for name in pngs)
    assert not any(name.startswith("significance_") for name in pngs)
    assert pd.read_csv(figures / "summary.csv")["num_trials"].eq(1).all()
    assert "holds the original toolkit's means over trials" in (report / "report.md").read_text()
