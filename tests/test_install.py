"""The project installs as a package: ``pip install .`` puts every package on the path, importable from anywhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["Schema", "Runs", "Tasks", "WeightImportance", "Aggregation", "Experiment", "Analysis",
            "SequentialLearning", "Bridge"]


def test_pip_install_makes_every_package_importable_from_another_directory(tmp_path):
    # Build from a copy, so that the build leaves nothing in the checkout.
    source = tmp_path / "source"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "requirements.txt", "requirements-ray.txt", "requirements-tfds.txt",
                 "requirements-tensorboard.txt"):
        shutil.copy(ROOT / name, source / name)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import importlib, json; "
            f"print(json.dumps([importlib.import_module(name).__file__ for name in {PACKAGES!r}]))")
    environment = {**os.environ, "PYTHONPATH": str(target), "TF_CPP_MIN_LOG_LEVEL": "3"}
    output = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=environment, capture_output=True,
                            text=True, check=True).stdout
    files = json.loads(output.strip().splitlines()[-1])
    assert len(files) == len(PACKAGES)
    assert all(Path(file).is_relative_to(target) for file in files), files
