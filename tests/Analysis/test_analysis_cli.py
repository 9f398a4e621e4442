import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from Schema import config_path

REPOSITORY = Path(__file__).resolve().parents[2]
SCRIPT = REPOSITORY / "Data Analysis.py"


def run_cli(*arguments):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, arguments)], cwd=REPOSITORY, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.smoke
def test_cli_writes_summary_figures_and_report(tmp_path, make_results):
    results_csv = tmp_path / "results" / "run.csv"
    results_csv.parent.mkdir()
    make_results({"random": 1.0, "magnitude": 3.0, "shuffled:magnitude": 1.0}, num_trials=4, epochs=(1, 2),
                 aggregations=(("weight", "none"), ("unit", "mean"))).to_csv(results_csv, index=False)
    config = {"task": "digits", "measures": ["magnitude", "shuffled:magnitude"], "num_trials": 4}
    config_path(results_csv).write_text(json.dumps(config))
    figures, report = tmp_path / "figures", tmp_path / "report"

    completed = run_cli(results_csv, "--out", figures, "--report", report, "--tolerance", "0.1", "--dpi", "50")

    assert completed.returncode == 0, completed.stderr
    assert "normalized_auc [95% CI]" in completed.stdout
    assert "magnitude is better than random" in completed.stdout
    summary = pd.read_csv(figures / "summary.csv")
    assert {"measure", "rank", "normalized_auc_mean", "normalized_auc_ci_low", "normalized_auc_ci_high",
            "max_fraction_within_tolerance_mean", "auc_mean"} <= set(summary.columns)
    assert len(summary) == 3 * 2 * 2 * 2  # measures x orders x epochs x aggregations
    pngs = sorted(p.name for p in figures.glob("*.png"))
    for prefix in ("curves_", "aggregations_", "overview_", "significance_", "stability_"):
        assert any(name.startswith(prefix) for name in pngs), prefix
    text = (report / "report.md").read_text()
    for heading in ("## Curves", "## Ranking", "## Significance", "## Stability of the ranking", "## Configuration"):
        assert heading in text
    assert '"num_trials": 4' in text
    assert "magnitude is better than random" in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images and all((report / image).is_file() for image in images)


def test_cli_writes_every_figure_in_every_format_asked_for(tmp_path, make_results):
    results_csv = tmp_path / "run.csv"
    make_results(num_trials=2, orders=("least",), num_thresholds=5).to_csv(results_csv, index=False)
    figures = tmp_path / "figures"
    completed = run_cli(results_csv, "--out", figures, "--format", "png,pdf,svg", "--dpi", "40")
    assert completed.returncode == 0, completed.stderr
    pngs = sorted(figures.glob("*.png"))
    assert {p.name.split("_")[0] for p in pngs} == {"curves", "significance", "stability"}
    for png in pngs:
        assert png.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        assert b"<svg" in png.with_suffix(".svg").read_bytes()[:2000]
    completed = run_cli(results_csv, "--out", figures, "--format", "png,tiff")
    assert completed.returncode != 0 and "valid formats are ['png', 'pdf', 'svg']" in completed.stderr


def test_cli_reports_a_missing_file_without_a_traceback(tmp_path):
    completed = run_cli(tmp_path / "missing.csv", "--out", tmp_path / "figures")
    assert completed.returncode != 0
    assert "missing.csv does not exist" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_cli_reports_missing_columns_and_empty_selections(tmp_path, make_results):
    bad = tmp_path / "bad.csv"
    make_results(num_trials=1).drop(columns=["val_loss"]).to_csv(bad, index=False)
    good = tmp_path / "good.csv"
    make_results(num_trials=1).to_csv(good, index=False)
    completed = run_cli(bad, "--out", tmp_path / "figures")
    assert completed.returncode != 0 and "lacks the columns ['val_loss']" in completed.stderr
    completed = run_cli(good, "--out", tmp_path / "figures", "--epoch", "9")
    assert completed.returncode != 0 and "available values of epoch: [1]" in completed.stderr
    make_results(num_trials=1).iloc[:-1].to_csv(bad, index=False)  # the last curve lacks threshold 1
    completed = run_cli(bad, "--out", tmp_path / "figures", "--order", "least")
    assert completed.returncode == 0
    assert re.search(r"warning: 1 curves of .*bad.csv lack thresholds .*measure magnitude.*order most.*\[1\]",
                     completed.stderr)


def test_analysis_never_imports_training_code():
    code = ("import sys, Analysis; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'tensorflow', 'keras', 'Tasks', 'WeightImportance', 'Aggregation', 'Experiment', 'SequentialLearning', "
            "'Runs'}); print(bad)")
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
