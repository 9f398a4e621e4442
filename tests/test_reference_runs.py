"""Fixed small runs of both runners give the stored results (``tests/data/reference_*.csv``, made by
``tests/data/make_references.py``): same rows, every value equal to 1e-9.

The stored CSVs guard every number of the pipeline at once (task data and model, training, trackers, measures,
ranking, replacement, evaluation, EWC) against unintended changes, such as a refactoring or a speed-up that alters
results. Floating-point results depend on the processor (its vector instructions choose TensorFlow's kernels), the
thread count and the libraries' versions, all recorded in ``reference_machine.json``: on another machine the
comparison is skipped with the reason. Regenerate the references on the new machine from the code *before* a
change (``git stash; python tests/data/make_references.py; git stash pop``), never after it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from Experiment import ExperimentConfig, run_experiment
from Schema import SEQUENTIAL_KEY_COLUMNS, THRESHOLDING_KEY_COLUMNS
from SequentialLearning import SequentialConfig, run_sequential

DATA = Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("make_references", DATA / "make_references.py")
references = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(references)


@pytest.fixture(scope="module", autouse=True)
def same_machine():
    stored = json.loads((DATA / "reference_machine.json").read_text())
    here = references.machine()
    differences = {k: (stored.get(k), here[k]) for k in here if stored.get(k) != here[k]}
    if differences:
        pytest.skip(f"the reference runs were made on another machine ({differences}); regenerate them with "
                    "tests/data/make_references.py from the code before your change")


# Columns added since the references were made, with the value that reproduces the referenced behaviour.
# (The references evaluated all of their 200 validation examples at every threshold.)
ADDED_COLUMNS = {"parameters": "all", "num_val_examples_used": 200}


def assert_same_results(fresh: pd.DataFrame, stored: pd.DataFrame, keys) -> None:
    for column, value in ADDED_COLUMNS.items():
        if column in fresh.columns and column not in stored.columns:
            assert (fresh[column] == value).all(), column
            fresh = fresh.drop(columns=column)
    assert list(fresh.columns) == list(stored.columns)
    assert len(fresh) == len(stored)
    merged = stored.merge(fresh, on=list(keys), suffixes=("_stored", "_fresh"), validate="one_to_one")
    assert len(merged) == len(stored)
    for column in stored.columns:
        if column in keys:
            continue
        a, b = merged[column + "_stored"], merged[column + "_fresh"]
        if pd.api.types.is_numeric_dtype(a):
            np.testing.assert_allclose(b.to_numpy(float), a.to_numpy(float), rtol=0, atol=1e-9, err_msg=column)
        else:
            assert (a == b).all(), column


def test_thresholding_run_matches_the_stored_reference(tmp_path):
    config = ExperimentConfig(**references.THRESHOLDING, results_csv=str(tmp_path / "thresholding.csv"))
    assert_same_results(pd.read_csv(run_experiment(config)), pd.read_csv(DATA / "reference_thresholding.csv"),
                        THRESHOLDING_KEY_COLUMNS)


def test_sequential_run_matches_the_stored_reference(tmp_path):
    config = SequentialConfig(**references.SEQUENTIAL, results_csv=str(tmp_path / "sequential.csv"))
    assert_same_results(pd.read_csv(run_sequential(config)), pd.read_csv(DATA / "reference_sequential.csv"),
                        SEQUENTIAL_KEY_COLUMNS)
