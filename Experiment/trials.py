"""Run the trials of a configuration. Trial k is ``run_trial(config, k)``: independent, with seed ``seed + k``.

All trials write into the one CSV ``config.results_csv``, keyed by ``trial``; re-running resumes what is missing.
Two backends run them and give the same rows:

- ``"local"``: one after the other in this process (needs nothing beyond requirements.txt);
- ``"ray"``: as Ray tasks on this machine or a Ray cluster, each with ``num_cpus_per_trial`` CPUs and
  ``num_gpus_per_trial`` GPUs (``Experiment.ray_backend``; needs ``pip install -r requirements-ray.txt``).

A trial that raises does not stop the others, on either backend: every other trial runs and writes its rows,
then ``TrialsFailedError`` lists the failed trials with their errors. A run of a single trial raises that
trial's own error.

This process holds the results file for the whole run on both backends (``Runs.run_files``: locked, a partial last
line cut before the recorded rows are read, the configuration checked and, after the task's data were built,
saved); the trials only hand their rows to it.
"""

from __future__ import annotations

import math
from pathlib import Path

from tqdm.auto import tqdm

import Tasks
from Experiment import ray_backend
from Experiment.config import BACKENDS, ExperimentConfig
from Experiment.results import WRITER, columns_of, keys_of
from Experiment.trial import run_trial, trial_complete
from Runs import paths
from Runs.run_files import RunFiles
from Runs.threads import num_threads_in_use, use_num_threads


def run_experiment(config: ExperimentConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    return run_trials(config)


class TrialsFailedError(RuntimeError):
    """Some trials raised; the others ran to the end. ``failures`` maps each failed trial to its error."""

    def __init__(self, config: ExperimentConfig, failures: dict[int, BaseException], num_run: int | None = None):
        self.failures = dict(sorted(failures.items()))
        lines = "\n".join(f"  trial {trial} (seed {config.trial_seed(trial)}): {type(error).__name__}: {error}"
                          for trial, error in self.failures.items())
        if num_run is not None and len(self.failures) >= num_run:
            summary = f"Every trial run failed ({len(self.failures)}); rows they wrote before failing are kept."
        else:
            summary = (f"{len(self.failures)} trial(s) failed; the rows of the other trials are in "
                       f"{config.results_csv}.")
        super().__init__(f"{summary}\n{lines}\nRunning the same configuration again runs only what is missing.")


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
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid: {list(BACKENDS)}.")
    if backend == "ray":
        ray_backend.import_ray()  # before anything is written: a missing Ray is reported with how to install it
        default_threads = max(1, math.ceil(config.num_cpus_per_trial))  # a trial's share of its node
    else:
        default_threads = num_threads_in_use()
    with RunFiles(config, columns_of(config.results_csv), WRITER, default_num_threads=default_threads) as files:
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
            if backend == "ray":
                failures = ray_backend.run_on_ray(
                    config, trials, done, progress, files.writer.append,
                    ray_address=config.ray_address if ray_address is None else ray_address)
            else:
                failures = _run_local(config, trials, done, progress, files.writer.append)
        finally:
            progress.close()
    if failures and num_trials == 1:
        raise failures[0]
    if failures:
        raise TrialsFailedError(config, failures, num_run=len(trials)) from failures[min(failures)]
    return paths.results_csv(config.results_csv)


def _run_local(config: ExperimentConfig, trials: list[int], done: set, progress, sink) -> dict[int, BaseException]:
    failures = {}
    for trial in trials:
        try:
            run_trial(config, trial, sink=sink, done={key for key in done if key[0] == trial})
        except Exception as error:  # the other trials still run; run_trials reports every failure at the end
            failures[trial] = error
        progress.update(1)
    return failures
