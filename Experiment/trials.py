"""Run the trials of a configuration. Trial k is ``run_trial(config, k)``: independent, with seed ``seed + k``.

All trials write into the one CSV ``config.results_csv``, keyed by ``trial``; re-running resumes what is missing.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from Experiment import paths
from Experiment.config import ExperimentConfig
from Experiment.runner import prepare_results, run_trial


def run_trials(config: ExperimentConfig, num_trials: int | None = None, backend: str | None = None) -> Path:
    """Run trials 0 .. num_trials-1 (default ``config.num_trials``) and return the results CSV's path."""
    num_trials = config.num_trials if num_trials is None else num_trials
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1:
        raise ValueError(f"num_trials must be a positive integer; got {num_trials!r}.")
    backend = config.backend if backend is None else backend
    if backend != "local":
        raise ValueError(f"Unknown backend {backend!r}; valid: ['local'].")
    prepare_results(config)
    for trial in tqdm(range(num_trials), desc="trials", disable=not config.progress or num_trials == 1,
                      unit="trial"):
        run_trial(config, trial)
    return paths.results_csv(config.results_csv)
