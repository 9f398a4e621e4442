"""Run the trials of a configuration. Trial k is ``run_trial(config, k)``: independent, with seed ``seed + k``.

All trials write into the one CSV ``config.results_csv``, keyed by ``trial``; re-running resumes what is missing.
Two backends run them and give the same rows:

- ``"local"``: one after the other in this process (needs nothing beyond requirements.txt);
- ``"ray"``: as Ray tasks on this machine or a Ray cluster, each with ``num_cpus_per_trial`` CPUs and
  ``num_gpus_per_trial`` GPUs (``Experiment.ray_backend``; needs ``pip install -r requirements-ray.txt``).

A trial that raises does not stop the others, on either backend: every other trial runs and writes its rows,
then ``TrialsFailedError`` lists the failed trials with their errors. A run of a single trial raises that
trial's own error.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from Experiment import ray_backend
from Experiment.config import BACKENDS, ExperimentConfig
from Experiment.results import read_keys
from Experiment.trial import run_trial, trial_complete
from Runs import paths
from Runs.records import check_or_save_config


def run_experiment(config: ExperimentConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    return run_trials(config)


class TrialsFailedError(RuntimeError):
    """Some trials raised; the others ran to the end. ``failures`` maps each failed trial to its error."""

    def __init__(self, config: ExperimentConfig, failures: dict[int, BaseException]):
        self.failures = dict(sorted(failures.items()))
        lines = "\n".join(f"  trial {trial} (seed {config.trial_seed(trial)}): {type(error).__name__}: {error}"
                          for trial, error in self.failures.items())
        super().__init__(
            f"{len(self.failures)} trial(s) failed; the rows of the other trials are in {config.results_csv}.\n"
            f"{lines}\nRunning the same configuration again runs only what is missing."
        )


def run_trials(config: ExperimentConfig, num_trials: int | None = None, backend: str | None = None,
               ray_address: str | None = None) -> Path:
    """Run (or resume) trials 0 .. num_trials-1 and return the results CSV's path.

    ``num_trials``, ``backend`` and ``ray_address`` default to the configuration's fields. Progress is one tqdm
    bar of finished trials.
    """
    num_trials = config.num_trials if num_trials is None else num_trials
    if isinstance(num_trials, bool) or not isinstance(num_trials, int) or num_trials < 1:
        raise ValueError(f"num_trials must be a positive integer; got {num_trials!r}.")
    backend = config.backend if backend is None else backend
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid: {list(BACKENDS)}.")
    if backend == "ray":
        ray_backend.import_ray()  # before anything is written: a missing Ray is reported with how to install it
        ray_backend.check_resources(config)
    check_or_save_config(config, config.results_csv)
    done = read_keys(config.results_csv)
    trials = [trial for trial in range(num_trials) if not trial_complete(config, trial, done)]
    progress = tqdm(total=num_trials, initial=num_trials - len(trials), desc="trials", unit="trial",
                    disable=not config.progress or num_trials == 1)
    try:
        if not trials:
            failures = {}
        elif backend == "ray":
            failures = ray_backend.run_on_ray(config, trials, done, progress,
                                              ray_address=config.ray_address if ray_address is None else ray_address)
        else:
            failures = _run_local(config, trials, progress)
    finally:
        progress.close()
    if failures and num_trials == 1:
        raise failures[0]
    if failures:
        raise TrialsFailedError(config, failures) from failures[min(failures)]
    return paths.results_csv(config.results_csv)


def _run_local(config: ExperimentConfig, trials: list[int], progress) -> dict[int, BaseException]:
    failures = {}
    for trial in trials:
        try:
            run_trial(config, trial)
        except Exception as error:  # the other trials still run; run_trials reports every failure at the end
            failures[trial] = error
        progress.update(1)
    return failures
