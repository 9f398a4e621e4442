"""The thresholding runner: the package that knows Tasks, WeightImportance and Aggregation together.

Modules, in the one direction they import: ``trials`` (all trials, local or on Ray: ``Runs.trials``) -> ``trial`` (one
trial: training, checkpoints) -> ``grid`` (one measured epoch: ``EpochGrid``) -> ``budget`` (validation examples per row), ``measures``, ``controls``,
``results``, ``config``; the run layer ``Runs`` below them. ``oracle`` is the oracle-correlation study.

    from Experiment import ExperimentConfig, run_experiment
    run_experiment(ExperimentConfig(task="digits", epochs=3, measures=["magnitude", "fisher"]))
"""

from Experiment.config import ExperimentConfig
from Experiment.grid import EpochGrid, combinations, expected_keys
from Experiment.measures import build_measures
from Experiment.trial import run_trial
from Experiment.trials import TrialsFailedError, run_experiment, run_trials
from Schema import THRESHOLDING_COLUMNS as COLUMNS

__all__ = ["COLUMNS", "EpochGrid", "ExperimentConfig", "TrialsFailedError", "build_measures", "combinations",
           "expected_keys", "run_experiment", "run_trial", "run_trials"]
