"""The experiment runner: the only package that knows Tasks, WeightImportance and Aggregation together.

    from Experiment import ExperimentConfig, run_experiment
    run_experiment(ExperimentConfig(task="digits", epochs=3, measures=["magnitude", "fisher"]))
"""

from Experiment.config import ExperimentConfig
from Experiment.results import COLUMNS
from Experiment.runner import run_experiment, run_trial
from Experiment.trials import TrialsFailedError, run_trials

__all__ = ["COLUMNS", "ExperimentConfig", "TrialsFailedError", "run_experiment", "run_trial", "run_trials"]
