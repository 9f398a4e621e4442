"""main.ipynb takes every field of ExperimentConfig as a papermill parameter, and nothing else: a field added to
the dataclass but not to the notebook's ``parameters`` cell would be silently dropped by papermill."""

import ast
import dataclasses
import json
from pathlib import Path

from Experiment import ExperimentConfig

ROOT = Path(__file__).resolve().parents[2]


def parameter_names(notebook: Path) -> set[str]:
    (cell,) = [c for c in json.loads(notebook.read_text())["cells"]
               if "parameters" in c.get("metadata", {}).get("tags", [])]
    tree = ast.parse("".join(cell["source"]))
    return {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets}


def test_every_field_is_a_parameter_and_every_parameter_a_field():
    fields = {f.name for f in dataclasses.fields(ExperimentConfig)}
    names = parameter_names(ROOT / "main.ipynb")
    assert fields - names == set(), "fields missing from the notebook's parameters cell"
    assert names - fields == set(), "parameters that are no field"


def test_the_main_jobs_default_gives_the_report_its_intervals_and_tests():
    from Analysis.report import MIN_TRIALS

    (cell,) = [c for c in json.loads((ROOT / "main.ipynb").read_text())["cells"]
               if "parameters" in c.get("metadata", {}).get("tags", [])]
    defaults = {}
    exec("".join(cell["source"]), {}, defaults)
    assert defaults["num_trials"] >= MIN_TRIALS
