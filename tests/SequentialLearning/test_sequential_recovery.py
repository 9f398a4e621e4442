"""A sequential run that fails at the start leaves nothing that blocks the corrected run."""

import pandas as pd
import pytest

from Runs import paths
from SequentialLearning import run_sequential


def test_bad_splits_write_nothing_and_the_corrected_run_goes_ahead(tmp_path, make_config):
    results = tmp_path / "run.csv"
    with pytest.raises(ValueError, match=r"invalid entries \[99\]"):
        run_sequential(make_config(results, splits=[[0, 1], [99]], measures=["none"]))
    assert not results.exists() and not paths.config_json(results).exists()
    run_sequential(make_config(results, splits=[[0, 1], [2, 3]], measures=["none"]))
    assert len(pd.read_csv(results)) == 3
