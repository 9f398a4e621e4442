"""Run the trials of a configuration as Ray tasks, on one machine or on a cluster (``backend="ray"``).

Each trial is one Ray task asking for ``config.num_cpus_per_trial`` CPUs and ``config.num_gpus_per_trial`` GPUs
(a fraction such as 0.25 shares a GPU between trials; above 1 it must be a whole number). The task runs the
unchanged ``run_trial(config, trial, sink, done)`` on whichever node Ray picks:

- ``done`` is the set of that trial's row keys already in ``config.results_csv``, read by the driver when the
  run starts, so a resumed run evaluates only what is missing;
- ``sink`` puts each new batch of rows on a ``ray.util.queue.Queue``; the put returns once the queue holds the
  rows, so they survive the worker. The driver drains the queue while the trials run and appends the rows to
  ``config.results_csv`` with the same writer as the local backend: one CSV keyed by ``trial``, same columns
  (rows of concurrent trials interleave; every reader keys rows by their columns, not their order).

TensorFlow in a trial uses ``ceil(num_cpus_per_trial)`` threads per op, so trials sharing a node do not
oversubscribe it. The thread count sets the order of floating-point sums: rows match a local run with the same
thread count exactly, and a local run with another count up to round-off grown by training.

Failures. A task whose worker process or node dies is run again by Ray (``max_retries``, default 3); it resumes
from the trial's checkpoint, and rows that reach the driver twice are written once. A trial that raises is not
retried (it would raise again): it is returned as a failure with its trial index while the other trials go on,
and ``run_trials`` raises at the end. Running the same configuration again runs only the missing trials and rows.

Checkpoints are written by the worker under the results path made absolute on the driver
(``results/digits_checkpoints/trial_3/``, see ``Runs.paths``). On a cluster of several machines that
path should be shared storage mounted at the same place on every node: otherwise a retried trial that lands
on another node does not find the checkpoint and trains again from epoch 0 (where the path cannot be created
on a node, its trials fail there). The project's packages travel to the nodes in the Ray job's ``runtime_env``
(``runtime_env()``: ``py_modules``); their dependencies (requirements.txt) must be installed on every node.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path

import Aggregation
import Experiment
import Runs
import Schema
import Tasks
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.results import results_writer
from Experiment.trial import run_trial
from Schema import thresholding_key

INSTALL_COMMAND = "pip install -r requirements-ray.txt"
MAX_RETRIES = 3
POLL_SECONDS = 0.5


def import_ray():
    """The ``ray`` module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(
            f'backend="ray" needs Ray, which is not installed. Install it with `{INSTALL_COMMAND}` (from the '
            'repository root), or run the trials with backend="local".'
        ) from error
    return ray


def check_resources(config: ExperimentConfig) -> None:
    """Raise ValueError unless the per-trial resources are ones Ray can grant."""
    cpus, gpus = config.num_cpus_per_trial, config.num_gpus_per_trial
    for name, value in (("num_cpus_per_trial", cpus), ("num_gpus_per_trial", gpus)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")
    if gpus > 1 and gpus != int(gpus):
        raise ValueError(f"num_gpus_per_trial above 1 must be a whole number of GPUs (Ray's rule); got {gpus}. "
                         "Use a fraction up to 1 to share a GPU between trials, or 1, 2, ... GPUs per trial.")


def run_on_ray(config: ExperimentConfig, trials: list[int], done: set, progress, ray_address: str | None = None,
               max_retries: int = MAX_RETRIES) -> dict[int, BaseException]:
    """Run ``trials`` as Ray tasks and write their rows; returns {trial: error} for the trials that failed.

    Uses the Ray connection of this process if there is one. Otherwise it connects to ``ray_address`` (a running
    cluster: ``"auto"``, ``"HEAD_IP:6379"``, or ``"ray://HEAD_IP:10001"`` with ``ray[client]``); when that is
    None, to the cluster in ``RAY_ADDRESS`` or the one ``ray start`` began on this machine, or else to a new local
    Ray instance with this machine's CPUs and GPUs. A connection it made is closed at the end (a new local
    instance stops with it; a cluster keeps running). ``progress`` is a tqdm bar advanced per finished trial.
    """
    ray = import_ray()
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    check_resources(config)
    started = not ray.is_initialized()
    if started:
        options = {"include_dashboard": False} if ray_address is None else {}
        ray.init(address=ray_address, runtime_env=runtime_env(), **options)
    rows = None
    try:
        _check_cluster(ray, config)
        # The queue lives on the driver's node (it needs no CPU), so rows in it share the driver's fate.
        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=True)
        rows = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
        task = ray.remote(_run_trial_task).options(
            num_cpus=config.num_cpus_per_trial, num_gpus=config.num_gpus_per_trial, max_retries=max_retries,
            retry_exceptions=False, runtime_env={"env_vars": _trial_env_vars(config)},
        )
        worker_config = dataclasses.replace(config, results_csv=str(Path(config.results_csv).resolve()),
                                            progress=False)
        pending = {
            task.remote(worker_config, trial, {key for key in done if key[0] == trial}, rows): trial
            for trial in trials
        }
        writer = _Writer(config.results_csv, done, progress)
        failures: dict[int, BaseException] = {}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
                writer.write(_drain(rows))  # after the wait: a finished task's rows are all in the queue
                for reference in ready:
                    trial = pending.pop(reference)
                    try:
                        ray.get(reference)
                    except ray.exceptions.RayTaskError as error:
                        failures[trial] = _task_error(error)
                    except ray.exceptions.RayError as error:  # e.g. its worker died on every try
                        failures[trial] = error
                    progress.update(1)
        except BaseException:
            for reference in pending:
                ray.cancel(reference, force=True)
            raise
        finally:
            writer.write(_drain(rows))
        return failures
    finally:
        if rows is not None:
            rows.shutdown()
        if started:
            ray.shutdown()


def _run_trial_task(config: ExperimentConfig, trial: int, done: set, rows) -> None:
    """The Ray task: the local trial function, its rows put on the driver's queue."""
    run_trial(config, trial, sink=rows.put, done=done)


def runtime_env() -> dict:
    """The Ray job ``runtime_env`` that ships this project's packages to every node (Ray accepts local folders only
    at the job level). ``run_trials`` uses it when it connects; pass it yourself when you call ``ray.init``:
    ``ray.init(address="auto", runtime_env=ray_backend.runtime_env())``."""
    packages = [str(Path(package.__file__).parent)
                for package in (Schema, Runs, Tasks, WeightImportance, Aggregation, Experiment)]
    env_vars = {name: os.environ[name] for name in ("TF_CPP_MIN_LOG_LEVEL",) if name in os.environ}
    return {"py_modules": packages, "excludes": ["__pycache__"], "env_vars": env_vars}


def _trial_env_vars(config: ExperimentConfig) -> dict:
    """Size TensorFlow's thread pool to the CPUs a trial asked for, and let trials that share a GPU grow their
    GPU memory rather than each taking all of it."""
    return {"TF_NUM_INTRAOP_THREADS": str(max(1, math.ceil(config.num_cpus_per_trial))),
            "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def _check_cluster(ray, config: ExperimentConfig) -> None:
    """A trial runs on one node: fail now, not hang, if no node has the resources one trial asks for."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    cpus, gpus = config.num_cpus_per_trial, config.num_gpus_per_trial
    if not any(node.get("CPU", 0) >= cpus and node.get("GPU", 0) >= gpus for node in nodes):
        available = [{"CPU": node.get("CPU", 0), "GPU": node.get("GPU", 0)} for node in nodes]
        raise ValueError(
            f"No node of the Ray cluster has the {cpus} CPU(s) and {gpus} GPU(s) one trial asks for "
            f"(num_cpus_per_trial, num_gpus_per_trial); its nodes have {available}. Lower those fields or add "
            "a node that has them."
        )


def _drain(rows) -> list[dict]:
    batches = rows.get_nowait_batch(rows.qsize()) if rows.qsize() else []
    return [row for batch in batches for row in batch]


def _task_error(error) -> BaseException:
    """The exception the trial raised, carrying the worker's traceback as a note."""
    cause = error.cause if isinstance(getattr(error, "cause", None), BaseException) else error
    if cause is not error:
        cause.add_note(f"On the Ray worker: {error}")  # Ray's text holds the worker's traceback
    return cause


class _Writer:
    """Appends rows to the results CSV once per key (a retried task can send a row again)."""

    def __init__(self, results_csv, done: set, progress):
        self.writer = results_writer(results_csv)
        self.recorded = set(done)
        self.progress = progress
        self.num_rows = 0

    def write(self, rows: list[dict]) -> None:
        new = []
        for row in rows:
            key = thresholding_key(row)
            if key not in self.recorded:
                self.recorded.add(key)
                new.append(row)
        if new:
            self.writer.append(new)
            self.num_rows += len(new)
            self.progress.set_postfix(rows=self.num_rows)
