"""sequential.ipynb runs headless through papermill; its parameters are the configuration's fields."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from SequentialLearning import SequentialConfig

ROOT = Path(__file__).resolve().parents[2]


def test_notebook_parameters_are_configuration_fields():
    notebook = json.loads((ROOT / "sequential.ipynb").read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    (cell,) = [c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert cell is [c for c in notebook["cells"] if c["cell_type"] == "code"][0]  # the first code cell
    names = {line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines() if "=" in line}
    fields = {f.name for f in dataclasses.fields(SequentialConfig)}
    assert names <= fields, names - fields
    assert {"task", "sequence", "num_tasks", "model", "seed", "num_trials", "epochs", "measures", "ewc_lambdas",
            "normalization", "results_csv"} <= names


def test_notebook_runs_headless(tmp_path):
    results = tmp_path / "nb.csv"
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "sequential.ipynb"), str(tmp_path / "out.ipynb"),
         "--cwd", str(ROOT), "-p", "epochs", "1", "-p", "num_train_examples", "100",
         "-p", "num_validation_examples", "50", "-p", "num_importance_examples", "50",
         "-p", "results_csv", str(results), "-y", "measures: [none, fisher]", "-y", "ewc_lambdas: [1]"],
        capture_output=True, text=True,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = pd.read_csv(results)
    assert set(rows["measure"]) == {"none", "fisher"} and len(rows) == 2 * 3
    assert json.loads(results.with_suffix(".json").read_text())["epochs"] == 1
    output = json.loads((tmp_path / "out.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in output["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []))
    assert "best lambda" in printed and "fisher" in printed
