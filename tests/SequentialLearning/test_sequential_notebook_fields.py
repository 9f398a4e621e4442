"""sequential.ipynb takes every field of SequentialConfig as a papermill parameter, and nothing else."""

import ast
import dataclasses
import json
from pathlib import Path

from SequentialLearning import SequentialConfig

ROOT = Path(__file__).resolve().parents[2]


def test_every_field_is_a_parameter_and_every_parameter_a_field():
    (cell,) = [c for c in json.loads((ROOT / "sequential.ipynb").read_text())["cells"]
               if "parameters" in c.get("metadata", {}).get("tags", [])]
    tree = ast.parse("".join(cell["source"]))
    names = {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets}
    fields = {f.name for f in dataclasses.fields(SequentialConfig)}
    assert fields - names == set(), "fields missing from the notebook's parameters cell"
    assert names - fields == set(), "parameters that are no field"
