import re

import pandas as pd
import pytest

from Analysis.report import markdown_table, write_report
from Analysis.thresholding import analyze


def test_report_with_a_given_configuration(tmp_path, make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=3, orders=("least",))
    path = write_report(results, tmp_path / "report", config={"task": "digits", "learning_rate": 0.01},
                        tolerance=0.1, test="t")
    text = path.read_text()
    assert path.name == "report.md"
    assert '"learning_rate": 0.01' in text
    assert "exceeds L0 (1 + 0.1)" in text
    assert re.search(r"^\| 1 +\| magnitude +\| 3 +\|", text, re.M)
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images and all((path.parent / image).is_file() for image in images)
    assert (path.parent / "summary.csv").is_file()


def test_report_refuses_options_with_a_ready_analysis(tmp_path, make_results):
    results = make_results(num_trials=2, orders=("least",))
    with pytest.raises(ValueError, match="ignored"):
        write_report(results, tmp_path, analysis=analyze(results), tolerance=0.2)


def test_markdown_table_escapes_pipes_and_keeps_the_text_of_numbers():
    table = markdown_table(pd.DataFrame({"a": ["x|y"], "b": [1], "c": ["0.4320"]}))
    assert table.splitlines() == ["| a    | b   | c      |", "|:-----|:----|:-------|", "| x\\|y | 1   | 0.4320 |"]


def test_report_at_one_trial_says_so_once_and_shows_no_band_interval_or_test(tmp_path, make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0, "fisher": 2.0}, num_trials=1)
    text = write_report(results, tmp_path / "report").read_text()
    assert text.count("1 trial: run 3 or more trials for confidence intervals and tests.") == 1
    assert "too few paired trials" not in text
    assert "Paired tests need at least 2 trials" in text
    assert "Agreement across trials needs at least 2 trials." in text
    assert "*1 trial: no band.*" in text
    assert "[95% CI]" not in text and "significance_" not in text


def test_tolerance_fractions_only_for_order_least_and_their_intervals_inside_zero_one(tmp_path, make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=5, spread=0.3, seed=4)
    analysis = analyze(results, tolerance=0.1)
    least = analysis.summary[analysis.summary["order"] == "least"]
    low, high = least["max_fraction_within_tolerance_ci_low"], least["max_fraction_within_tolerance_ci_high"]
    assert ((0 <= low) & (low <= least["max_fraction_within_tolerance_mean"]) & (high <= 1)).all()
    text = write_report(results, tmp_path / "report", analysis=analysis).read_text()
    tables = text.split("## Ranking")[1].split("## Significance")[0].split("### ")[1:]
    assert [("least" in t.splitlines()[0], "max fraction within tolerance" in t) for t in tables] == [
        (True, True), (False, False)]
    assert "logit scale" in text
