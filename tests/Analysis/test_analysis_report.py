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
