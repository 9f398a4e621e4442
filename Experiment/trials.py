"""Run the trials of a configuration. Trial k is ``run_trial(config, k)``: independent, with seed ``seed + k``.

All trials write into the one CSV ``config.results_csv``, keyed by ``trial``; re-running resumes what is missing.
Two backends run them and give the same rows (``Runs.trials``, shared by every study):

- ``"local"``: one after the other in this process (needs nothing beyond requirements.txt);
- ``"ray"``: as Ray tasks on this machine or a Ray cluster, each with ``num_cpus_per_trial`` CPUs and
  ``num_gpus_per_trial`` GPUs (``Runs.ray_trials``; needs ``pip install -r requirements-ray.txt``).

A trial that raises does not stop the others, on either backend: every other trial runs and writes its rows,
then ``TrialsFailedError`` lists the failed trials with their errors. A run of a single trial raises that
trial's own error.

This process holds the results file for the whole run on both backends (``Runs.run_files``: locked, a partial last
line cut before the recorded rows are read, the configuration checked and, after the task's data were built,
saved); the trials only hand their rows to it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tqdm.auto import tqdm

import Aggregation
import Experiment
import Runs
import Schema
import Tasks
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.results import WRITER, columns_of, keys_of
from Experiment.trial import run_trial, trial_complete
from Runs import paths
from Runs.ray_trials import ray_job, registering
from Runs.records import check_backend
from Runs.run_files import RunFiles
from Runs.threads import use_num_threads
from Runs.trials import RESULTS, TrialsFailedError, check_ray_installed, default_num_threads, raise_failures
from Runs.trials import run_trials as run_trials_on
from Schema import thresholding_key

# The packages a thresholding trial needs on a Ray worker.
PACKAGES = (Schema, Runs, Tasks, WeightImportance, Aggregation, Experiment)

__all__ = ["PACKAGES", "TrialsFailedError", "run_experiment", "run_trials", "thresholding_trial"]


def run_experiment(config: ExperimentConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    return run_trials(config)


def run_trials(config: ExperimentConfig, num_trials: int | None = None, backend: str | None = None,
               ray_address: str | None = None) -> Path:
    """Run (or resume) trials 0 .. num_trials-1 and return the results CSV's path.

    ``num_trials``, ``backend`` and ``ray_address`` default to the configuration's fields. Before anything is
    written, the results path is checked, the results file locked and repaired, the recorded configuration
    compared and the task's data built (``Runs.run_files``). Progress is one tqdm bar of finished trials.
    """
    num_trials = config.num_trials if num_trials is None else num_trials
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1:
        raise ValueError(f"num_trials must be a positive integer; got {num_trials!r}.")
    backend = config.backend if backend is None else backend
    check_backend(backend)
    check_ray_installed(backend)  # before anything is written: a missing Ray is reported with how to install it
    config = dataclasses.replace(config, backend=backend,
                                 ray_address=config.ray_address if ray_address is None else ray_address)
    with RunFiles(config, columns_of(config.results_csv), WRITER,
                  default_num_threads=default_num_threads(backend, config.num_cpus_per_trial)) as files:
        config = files.config
        done = keys_of(files.rows())
        trials = [trial for trial in range(num_trials) if not trial_complete(config, trial, done)]
        if not trials:
            return paths.results_csv(config.results_csv)
        if backend == "local":
            use_num_threads(config.num_threads)
        # The task's data, built before anything is written: a bad option or missing data set leaves no trace.
        Tasks.get_task(config.task, seed=config.trial_seed(trials[0]), **config.task_options)
        files.save_config()
        progress = tqdm(total=num_trials, initial=num_trials - len(trials), desc="trials", unit="trial",
                        disable=not config.progress or num_trials == 1)
        try:
            failures = run_trials_on(
                thresholding_trial, config, trials, {RESULTS: files.writer.append}, {RESULTS: done},
                {RESULTS: thresholding_key}, backend=backend, progress=progress,
                job=_ray_job(config) if backend == "ray" else None)
        finally:
            progress.close()
    raise_failures(config, failures, num_trials, num_run=len(trials))
    return paths.results_csv(config.results_csv)


def thresholding_trial(config: ExperimentConfig, trial: int, sinks: dict, done: dict) -> None:
    """``run_trial`` as ``Runs.trials`` calls a study's trial: one part, ``RESULTS``."""
    run_trial(config, trial, sink=sinks[RESULTS], done=done[RESULTS])


def _ray_job(config: ExperimentConfig):
    return ray_job(config, PACKAGES, registering(Tasks.register_task, Tasks.registered_tasks()),
                   results_csv=str(Path(config.results_csv).resolve()))
