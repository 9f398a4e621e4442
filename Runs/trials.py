"""Run the trials of a study, whatever it measures: one after another in this process (``backend="local"``) or as
Ray tasks on this machine or a cluster (``backend="ray"``, ``Runs.ray_trials``). Both give the same rows.

A study gives its per-trial function ``run_trial(config, trial, sinks, done)``: ``sinks`` maps each part of the
study (a results file: ``RESULTS`` for a study with one, the bridge's three) to a row sink, and ``done`` maps each
part to the keys already recorded there (every key's first item is its trial). The process that calls
``run_trials`` holds the study's results files (``Runs.run_files``) for the whole run; on either backend the trials
only hand their rows to the sinks it gives, and the caller's writers append them.

A trial that raises does not stop the others: every other trial runs and writes its rows, and ``run_trials``
returns the failures, which ``raise_failures`` turns into one error naming each failed trial (a run of a single
trial raises that trial's own error). Running the same configuration again runs only what is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from Runs.records import check_backend
from Runs.results import RowSink
from Runs.threads import num_threads_in_use

RESULTS = "results"  # the part of a study with one results file
TrialFunction = Callable[[Any, int, dict[str, RowSink], dict[str, set]], None]


class TrialsFailedError(RuntimeError):
    """Some trials raised; the others ran to the end. ``failures`` maps each failed trial to its error."""

    def __init__(self, config, failures: dict[int, BaseException], num_run: int | None = None,
                 results: str | None = None):
        self.failures = dict(sorted(failures.items()))
        results = config.results_csv if results is None else results
        lines = "\n".join(f"  trial {trial} (seed {config.trial_seed(trial)}): {type(error).__name__}: {error}"
                          for trial, error in self.failures.items())
        if num_run is not None and len(self.failures) >= num_run:
            summary = f"Every trial run failed ({len(self.failures)}); rows they wrote before failing are kept."
        else:
            summary = f"{len(self.failures)} trial(s) failed; the rows of the other trials are in {results}."
        super().__init__(f"{summary}\n{lines}\nRunning the same configuration again runs only what is missing.")


def default_num_threads(backend: str, num_cpus_per_trial: float) -> int:
    """TensorFlow's intra-op threads for a new run with ``num_threads=None``: a Ray trial's share of its node
    (``ceil(num_cpus_per_trial)``), or the count this process uses (``Runs.threads``)."""
    check_backend(backend)
    if backend == "ray":
        return max(1, math.ceil(num_cpus_per_trial))
    return num_threads_in_use()


def check_ray_installed(backend: str) -> None:
    """For ``backend="ray"``, an ImportError saying how to install Ray, before anything is written."""
    check_backend(backend)
    if backend == "ray":
        from Runs.ray_trials import import_ray

        import_ray()


def run_trials(run_trial: TrialFunction, config, trials: list[int], sinks: dict[str, RowSink],
               done: dict[str, set], row_keys: dict[str, Callable[[dict], tuple]], backend: str = "local",
               progress=None, job=None) -> dict[int, BaseException]:
    """Run ``trials`` of ``config`` on ``backend`` and return {trial: error} for those that raised.

    ``row_keys`` maps each part to the function that gives a row's key (the Ray backend writes each key once,
    since a retried task can send a row again). ``progress``: a tqdm bar advanced per finished trial (or None).
    ``job``: what the Ray backend ships (``Runs.ray_trials.RayJob``); the local backend ignores it.
    """
    check_backend(backend)
    if backend == "ray":
        from Runs.ray_trials import RayJob, run_on_ray

        return run_on_ray(run_trial, config, trials, sinks, done, row_keys, progress, job or RayJob())
    failures = {}
    for trial in trials:
        try:
            run_trial(config, trial, sinks, done)
        except Exception as error:  # the other trials still run; every failure is reported at the end
            failures[trial] = error
        if progress is not None:
            progress.update(1)
    return failures


def raise_failures(config, failures: dict[int, BaseException], num_trials: int, num_run: int,
                   results: str | None = None) -> None:
    """Raise what ``run_trials`` returned: nothing if no trial failed, a lone trial's own error, or one
    ``TrialsFailedError`` naming each failed trial (``results``: where the other trials' rows are)."""
    if not failures:
        return
    if num_trials == 1:
        raise failures[min(failures)]
    raise TrialsFailedError(config, failures, num_run=num_run, results=results) from failures[min(failures)]
