"""One small `digits` experiment shared by the Experiment tests (it takes seconds on a CPU)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from Experiment import ExperimentConfig, run_experiment  # noqa: E402


def small_config(results_csv, **changes) -> ExperimentConfig:
    values = dict(
        task="digits", seed=0, epochs=2, measure_every=1, measures=["magnitude", "fisher", "sign_flips"],
        aggregation_levels=["weight", "unit"], aggregation_methods=["mean"], scopes=["layer"], orders=["least"],
        num_thresholds=6, num_validation_examples=200, num_train_loss_examples=200, num_importance_examples=200,
        results_csv=str(results_csv), progress=False,
    )
    values.update(changes)
    return ExperimentConfig(**values)


@pytest.fixture(scope="session")
def make_config():
    """small_config as a fixture: make_config(results_csv, **changes)."""
    return small_config


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """(config, results DataFrame) of a complete two-epoch run on digits."""
    config = small_config(tmp_path_factory.mktemp("run") / "digits.csv", orders=["least", "most"],
                          measures=["magnitude", "fisher", "sign_flips", "shuffled:magnitude"])
    run_experiment(config)
    return config, pd.read_csv(config.results_csv)
