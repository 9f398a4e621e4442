"""The main job runs headless through papermill, and Data Analysis.py turns its CSV into figures and a ranking."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def test_main_notebook_runs_headless_and_is_analysed(tmp_path):
    results = tmp_path / "nb.csv"
    subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "main.ipynb"), str(tmp_path / "out.ipynb"),
         "--cwd", str(ROOT), "-p", "epochs", "1", "-p", "num_thresholds", "3", "-p", "results_csv", str(results),
         "-p", "num_validation_examples", "100", "-p", "num_train_examples", "100",
         "-y", "measures: [magnitude, sign_flips]"],
        check=True, capture_output=True, text=True,
    )
    df = pd.read_csv(results)
    assert set(df.measure) == {"random", "magnitude", "sign_flips"}
    assert json.loads(results.with_suffix(".json").read_text())["epochs"] == 1

    figures = tmp_path / "figures"
    run = subprocess.run([sys.executable, str(ROOT / "Data Analysis.py"), str(results), "--out", str(figures)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert list(figures.glob("*.png")) and (figures / "summary.csv").exists()
    assert "magnitude" in run.stdout


def test_notebook_parameters_are_configuration_fields():
    from Experiment import ExperimentConfig
    import dataclasses

    notebook = json.loads((ROOT / "main.ipynb").read_text())
    (cell,) = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    names = {line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines() if "=" in line}
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    assert names <= fields, names - fields
    assert {"task", "seed", "epochs", "measure_every", "measures", "aggregation_levels", "aggregation_methods",
            "scopes", "orders", "num_thresholds", "replacement", "num_validation_examples", "num_train_examples",
            "results_csv", "num_trials", "backend", "ray_address"} <= names
