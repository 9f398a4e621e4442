"""The shape of the house, checked from the source files: imports point down the floors, no module imports
another in a circle, and no module takes a private name from another module.

Floors, from the bottom: ``Schema`` (which ``WeightImportance`` imports for its one writer of arrays,
``Schema.arrays``), ``Tasks``, ``WeightImportance``, ``Aggregation``; the run layer ``Runs``;
the runners ``Experiment`` and ``SequentialLearning``; ``Analysis`` reads results through ``Schema`` only.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("Schema", "Runs", "Tasks", "WeightImportance", "Aggregation", "Experiment", "SequentialLearning",
            "Bridge", "Analysis", "benchmarks")
# What each package may import from the project (besides itself).
ALLOWED = {
    "Schema": set(),
    "Tasks": set(),
    "WeightImportance": {"Schema"},
    "Aggregation": set(),
    "Runs": {"Schema"},
    "Experiment": {"Schema", "Runs", "Tasks", "WeightImportance", "Aggregation"},
    "SequentialLearning": {"Schema", "Runs", "Tasks", "WeightImportance"},
    "Bridge": {"Schema", "Runs", "Tasks", "WeightImportance", "Aggregation", "Experiment", "SequentialLearning"},
    "Analysis": {"Schema"},
}


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = module_files()


def imports_of(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every import statement in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.extend((base, alias.name, node.lineno) for alias in node.names)
    return found


def project_edges() -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name that is a submodule counts as that submodule)."""
    edges = {}
    for name, path in MODULES.items():
        targets = set()
        for module, imported, _ in imports_of(name, path):
            if imported is not None and f"{module}.{imported}" in MODULES:
                targets.add(f"{module}.{imported}")
            elif module in MODULES:
                targets.add(module)
        edges[name] = targets - {name}
    return edges


def test_there_is_no_import_circle():
    edges = project_edges()
    state: dict[str, int] = {}
    circles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            # A package's __init__ importing its own modules, which import the package back, is Python's normal
            # package set-up, not a circle between modules.
            if target.split(".")[0] == module.split(".")[0] and "." not in target:
                continue
            if state.get(target) == 1:
                circles.append(stack[stack.index(target):] + [target] if target in stack else [module, target])
            elif target not in state:
                visit(target, stack + [target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_the_floors_below_it(package):
    bad = []
    for name, path in MODULES.items():
        if name.split(".")[0] != package:
            continue
        for module, _, line in imports_of(name, path):
            top = module.split(".")[0]
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not bad, f"{package} may import only {sorted(ALLOWED[package])} of the project:\n" + "\n".join(bad)


def test_no_module_takes_a_private_name_from_another_module():
    bad = []
    for name, path in MODULES.items():
        for module, imported, line in imports_of(name, path):
            private_path = any(part.startswith("_") and part != "__future__" for part in module.split("."))
            own_package = module.split(".")[0] == name.split(".")[0]
            if private_path and not own_package:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports from {module}")
            if imported and imported.startswith("_") and f"{module}.{imported}" not in MODULES:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {imported} from {module}")
    assert not bad, "private names taken from other modules:\n" + "\n".join(bad)


def test_importing_sequential_learning_loads_no_module_of_the_thresholding_runner():
    code = ("import sys, SequentialLearning; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('Experiment', 'Aggregation', 'Analysis')))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""}).stdout
    assert output.strip().splitlines()[-1] == "[]"


def test_the_analysis_loads_no_training_code():
    code = ("import sys, Analysis; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'Runs', 'Tasks', 'WeightImportance', 'Aggregation', 'Experiment', "
            "'SequentialLearning')))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PATH": ""}).stdout
    assert output.strip().splitlines()[-1] == "[]"


def test_no_analysis_module_is_over_300_lines():
    long = {name: n for name, path in MODULES.items() if name.split(".")[0] == "Analysis"
            if (n := len(path.read_text().splitlines())) > 300}
    assert not long, f"Analysis modules over 300 lines (split them along their neighbours' lines): {long}"
