"""The main job runs headless through papermill, and Data Analysis.py turns its CSV into figures and a ranking."""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


TENSORFLOW_LOG = re.compile(r"[IWEF]0000 |absl|oneDNN|cuda|WARNING:tensorflow|TqdmWarning")
BAR = re.compile(r"^\s*(.*?):\s+\d+%\|", re.MULTILINE)


def saved_outputs(notebook_path: Path) -> tuple[str, list[dict]]:
    """All stream text of the executed notebook, and its display outputs."""
    notebook = json.loads(notebook_path.read_text())
    outputs = [output for cell in notebook["cells"] for output in cell.get("outputs", [])]
    text = "".join("".join(o["text"]) for o in outputs if o["output_type"] == "stream")
    return text, [o for o in outputs if o["output_type"] in ("display_data", "execute_result")]


@pytest.mark.smoke
def test_main_notebook_runs_headless_quietly_and_is_analysed(tmp_path):
    results = tmp_path / "nb.csv"
    subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "main.ipynb"), str(tmp_path / "out.ipynb"),
         "-p", "num_trials", "1",
         "--cwd", str(ROOT), "-p", "epochs", "3", "-p", "results_csv", str(results),
         "-p", "num_validation_examples", "100", "-p", "num_train_loss_examples", "100",
         "-y", "measures: [magnitude, fisher, sign_flips]", "-y", "aggregation_levels: [weight]",
         "-p", "threshold_spacing", "adaptive", "-p", "num_thresholds", "6", "-p", "parameters", "kernels",
         "-y", "scopes: [layer, tensor]"],
        check=True, capture_output=True, text=True,
    )
    df = pd.read_csv(results)
    assert set(df.measure) == {"random", "magnitude", "fisher", "sign_flips"}
    assert set(df.parameters) == {"kernels"} and set(df.scope) == {"layer", "tensor"}
    assert df.groupby(["epoch", "measure", "scope", "order"]).size().max() <= 6  # adaptive, budget 6
    assert json.loads(results.with_suffix(".json").read_text())["epochs"] == 3

    # What the researcher sees: no TensorFlow log lines, each progress bar at most once (widgets in Jupyter).
    text, displays = saved_outputs(tmp_path / "out.ipynb")
    assert not TENSORFLOW_LOG.search(text), TENSORFLOW_LOG.search(text).group(0)
    bars = [line.replace("\r", "") for line in BAR.findall(text.replace("\r", "\n"))]
    assert all(bars.count(bar) <= 1 for bar in bars), bars
    if importlib.util.find_spec("ipywidgets"):
        widgets = [d for d in displays if "application/vnd.jupyter.widget-view+json" in d.get("data", {})]
        assert widgets and not bars
    assert any("image/png" in d.get("data", {}) for d in displays)  # the curves figure

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
            "scopes", "orders", "num_thresholds", "replacement", "num_validation_examples", "num_train_loss_examples",
            "results_csv", "num_trials", "backend", "ray_address"} <= names
