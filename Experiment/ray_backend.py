"""Run the trials of a configuration as Ray tasks, on one machine or on a cluster (``backend="ray"``).

Each trial is one Ray task asking for ``config.num_cpus_per_trial`` CPUs and ``config.num_gpus_per_trial`` GPUs
(a fraction such as 0.25 shares a GPU between trials; above 1 it must be a whole number). The task runs the
unchanged ``run_trial(config, trial, sink, done)`` on whichever node Ray picks:

- ``done`` is the set of that trial's row keys already in ``config.results_csv``, read by the driver when the
  run starts (after it took the results file's lock and cut a partial last line: ``Runs.run_files``), so a
  resumed run evaluates only what is missing;
- ``sink`` puts each new batch of rows on a ``ray.util.queue.Queue``; the put returns once the queue holds the
  rows, so they survive the worker. The driver drains the queue while the trials run and appends the rows to
  ``config.results_csv`` with the same writer as the local backend: one CSV keyed by ``trial``, same columns
  (rows of concurrent trials interleave; every reader keys rows by their columns, not their order). The driver
  holds the results file's lock for the whole run; the workers never touch the CSV or the lock.

TensorFlow in a trial uses ``config.num_threads`` threads per op (``TF_NUM_INTRAOP_THREADS``), resolved by
``run_trials``: for a new run with ``num_threads=None`` it is ``ceil(num_cpus_per_trial)``, so trials sharing a
node do not oversubscribe it; a resumed run uses the recorded count. The thread count sets the order of
floating-point sums: rows match a local run with the same thread count exactly.

Tasks registered at run time (``Tasks.register_task``, e.g. in a notebook) exist only in the driver's process, so
``Tasks.registered_tasks()`` travels with every trial and is registered again on the worker before it runs.

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
import importlib.util
import os
from pathlib import Path

import Aggregation
import Experiment
import Runs
import Schema
import Tasks
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.trial import run_trial
from Runs.results import RowSink
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


def run_on_ray(config: ExperimentConfig, trials: list[int], done: set, progress, sink: RowSink,
               ray_address: str | None = None, max_retries: int = MAX_RETRIES) -> dict[int, BaseException]:
    """Run ``trials`` as Ray tasks and hand their rows to ``sink`` once per key; returns {trial: error} for the
    trials that failed. ``config.num_threads`` must be set (``run_trials`` resolves it).

    Uses the Ray connection of this process if there is one. Otherwise it connects to ``ray_address`` (a running
    cluster: ``"auto"``, ``"HEAD_IP:6379"``, or ``"ray://HEAD_IP:10001"`` with ``ray[client]``); when that is
    None, to the cluster in ``RAY_ADDRESS`` or the one ``ray start`` began on this machine, or else to a new local
    Ray instance with this machine's CPUs and GPUs. A connection it made is closed at the end (a new local
    instance stops with it; a cluster keeps running). ``progress`` is a tqdm bar advanced per finished trial.
    """
    ray = import_ray()
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    started = not ray.is_initialized()
    if started:
        options = {"include_dashboard": False} if ray_address is None else {}
        ray.init(address=ray_address, runtime_env=runtime_env(config.task), **options)
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
        registered = Tasks.registered_tasks()
        pending = {
            task.remote(worker_config, trial, {key for key in done if key[0] == trial}, rows, registered): trial
            for trial in trials
        }
        writer = _Writer(sink, done, progress)
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


def _run_trial_task(config: ExperimentConfig, trial: int, done: set, rows, registered: dict) -> None:
    """The Ray task: the driver's registered tasks registered here too, then the local trial function, its rows put
    on the driver's queue."""
    for name, build_task in registered.items():
        Tasks.register_task(name, build_task)
    run_trial(config, trial, sink=rows.put, done=done)


def runtime_env(task: str | None = None) -> dict:
    """The Ray job ``runtime_env`` that ships this project's packages to every node (Ray accepts local folders only
    at the job level), and, for a task given as an import path (``"my_module:build_task"``), its top-level module
    when that is a local file or folder rather than an installed package (installed ones must be installed on
    every node too). ``run_trials`` uses it when it connects; pass it yourself when you call ``ray.init``:
    ``ray.init(address="auto", runtime_env=ray_backend.runtime_env(config.task))``."""
    packages = [str(Path(package.__file__).parent)
                for package in (Schema, Runs, Tasks, WeightImportance, Aggregation, Experiment)]
    packages.extend(_local_task_module(task))
    env_vars = {name: os.environ[name] for name in ("TF_CPP_MIN_LOG_LEVEL",) if name in os.environ}
    return {"py_modules": packages, "excludes": ["__pycache__"], "env_vars": env_vars}


def _trial_env_vars(config: ExperimentConfig) -> dict:
    """TensorFlow's intra-op threads as the configuration says (set before the worker's TensorFlow starts), and
    GPU memory that grows, so that trials sharing a GPU do not each take all of it."""
    return {"TF_NUM_INTRAOP_THREADS": str(config.num_threads),
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

    def __init__(self, sink: RowSink, done: set, progress):
        self.sink = sink
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
            self.sink(new)
            self.num_rows += len(new)
            self.progress.set_postfix(rows=self.num_rows)


def _local_task_module(task: str | None) -> list[str]:
    """The file or folder of an import-path task's top-level module, if it is not an installed package."""
    if not task or not Tasks.is_entry_point(task):
        return []
    spec = importlib.util.find_spec(task.partition(":")[0].split(".")[0])
    if spec is None or spec.origin is None or any(part in ("site-packages", "dist-packages")
                                                  for part in Path(spec.origin).parts):
        return []
    origin = Path(spec.origin)
    return [str(origin.parent if spec.submodule_search_locations else origin)]
