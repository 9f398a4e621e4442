"""Run a study's trials as Ray tasks, on one machine or on a cluster (``backend="ray"``; ``Runs.trials``).

Each trial is one Ray task asking for ``config.num_cpus_per_trial`` CPUs and ``config.num_gpus_per_trial`` GPUs
(``Runs.records.ExecutionFields``: a fraction such as 0.25 shares a GPU between trials; above 1 it must be a whole
number). The task runs the study's unchanged ``run_trial(config, trial, sinks, done)`` on whichever node Ray picks:

- ``done`` is that trial's share of what the driver read from the results files when the run started (after it
  took their locks and cut a partial last line: ``Runs.run_files``), so a resumed run does only what is missing;
- each of its ``sinks`` puts a batch of rows, with its part, on a ``ray.util.queue.Queue``; the put returns once
  the queue holds the rows, so they survive the worker. The driver drains the queue while the trials run and hands
  the rows to the study's own sinks (its results writers), each row key once: the same files, columns and writer
  as the local backend (rows of concurrent trials interleave; every reader keys rows by their columns, not their
  order). The driver holds the results files' locks for the whole run; the workers never touch a CSV or a lock.

TensorFlow in a trial uses ``config.num_threads`` threads per op (``TF_NUM_INTRAOP_THREADS``, set before the
worker's TensorFlow starts), resolved by the study: for a new run with ``num_threads=None`` it is
``ceil(num_cpus_per_trial)`` (``Runs.trials.default_num_threads``). The thread count sets the order of
floating-point sums: rows match a local run with the same thread count exactly.

What exists only in the driver's process travels with every trial (``RayJob``): ``setup`` callables run on the
worker before the trial (a study registers the driver's ``Tasks.register_task`` tasks there again), and the
project's packages and a local module named by an import-path task go in the Ray job's ``runtime_env``.

Failures. A task whose worker process or node dies is run again by Ray (``max_retries``, default 3) with the same
arguments; it resumes from the trial's checkpoints where the study makes them, and rows that reach the driver twice
are written once. A trial that raises is not retried (it would raise again): it is returned as a failure with its
trial index while the other trials go on. A driver that dies takes its tasks and its queue with it (rows not yet
drained are lost, rows written are kept); running the same configuration again runs only the missing rows.

Checkpoints are written by the worker under the results paths the study made absolute on the driver
(``RayJob.worker_config``). On a cluster of several machines those paths should be shared storage mounted at the
same place on every node: otherwise a retried trial that lands on another node does not find the checkpoint and
trains again from its first epoch. The packages' dependencies (requirements.txt) must be installed on every node.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import re
from collections.abc import Callable
from pathlib import Path

from Runs.results import RowSink

INSTALL_COMMAND = "pip install -r requirements-ray.txt"
MAX_RETRIES = 3
POLL_SECONDS = 0.5
IMPORT_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")  # "package.module:function"


@dataclasses.dataclass
class RayJob:
    """What the Ray backend ships with a study's trials.

    Attributes:
        packages: the project's packages the trial function needs (module objects); their folders travel in the
            job's ``runtime_env`` (``runtime_env``).
        task: the study's task; when it is an import path (``"my_module:build_task"``) whose top-level module is a
            local file or folder rather than an installed package, that module travels too.
        setup: callables without arguments run on the worker before each trial.
        worker_config: the configuration the workers are given (results paths made absolute, progress bars off);
            None: the one given to ``run_trials``.
        max_retries: how often Ray runs a task again whose worker died.
    """

    packages: tuple = ()
    task: str | None = None
    setup: tuple = ()
    worker_config: object = None
    max_retries: int = MAX_RETRIES


def ray_job(config, packages, setup=(), **worker_paths) -> RayJob:
    """The ``RayJob`` of a study's run on ``config``: its ``packages``, the module of an import-path
    ``config.task``, the ``setup`` calls, and ``config`` with the absolute ``worker_paths`` given (e.g.
    ``results_csv=...``) and no progress bars for the workers."""
    return RayJob(packages=tuple(packages), task=getattr(config, "task", None), setup=tuple(setup),
                  worker_config=dataclasses.replace(config, progress=False, **worker_paths))


def registering(register: Callable, registered: dict) -> tuple:
    """``setup`` calls that make ``register(name, value)`` for every item of ``registered`` on the worker (a study
    passes ``Tasks.register_task, Tasks.registered_tasks()``: tasks registered in a notebook exist only there)."""
    return tuple(functools.partial(register, name, value) for name, value in registered.items())


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


def run_on_ray(run_trial: Callable, config, trials: list[int], sinks: dict[str, RowSink],
               done: dict[str, set], row_keys: dict[str, Callable[[dict], tuple]], progress,
               job: RayJob) -> dict[int, BaseException]:
    """Run ``trials`` as Ray tasks and hand their rows to ``sinks`` once per key; returns {trial: error} for the
    trials that failed. ``config.num_threads`` must be set (the study resolves it).

    Uses the Ray connection of this process if there is one. Otherwise it connects to ``config.ray_address`` (a
    running cluster: ``"auto"``, ``"HEAD_IP:6379"``, or ``"ray://HEAD_IP:10001"`` with ``ray[client]``); when that
    is None, to the cluster in ``RAY_ADDRESS`` or the one ``ray start`` began on this machine, or else to a new
    local Ray instance with this machine's CPUs and GPUs. A connection it made is closed at the end (a new local
    instance stops with it; a cluster keeps running).
    """
    ray = import_ray()
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    started = not ray.is_initialized()
    if started:
        options = {"include_dashboard": False} if config.ray_address is None else {}
        ray.init(address=config.ray_address, runtime_env=runtime_env(job.packages, job.task), **options)
    rows = None
    try:
        check_cluster(ray, config.num_cpus_per_trial, config.num_gpus_per_trial)
        # The queue lives on the driver's node (it needs no CPU), so rows in it share the driver's fate.
        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=True)
        rows = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
        task = ray.remote(run_trial_task).options(
            num_cpus=config.num_cpus_per_trial, num_gpus=config.num_gpus_per_trial, max_retries=job.max_retries,
            retry_exceptions=False, runtime_env={"env_vars": trial_env_vars(config.num_threads)},
        )
        worker_config = config if job.worker_config is None else job.worker_config
        pending = {task.remote(run_trial, worker_config, trial, trial_done(done, trial), rows, tuple(job.setup)):
                   trial for trial in trials}
        writer = _Writer(sinks, row_keys, progress)
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
                    if progress is not None:
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


def run_trial_task(run_trial: Callable, config, trial: int, done: dict[str, set], rows, setup: tuple) -> None:
    """The Ray task: the ``setup`` callables, then the study's trial function, each batch of rows put on the
    driver's queue with its part."""
    for call in setup:
        call()
    sinks = {part: _QueueSink(rows, part) for part in done}
    run_trial(config, trial, sinks, done)


def trial_done(done: dict[str, set], trial: int) -> dict[str, set]:
    """The keys of ``done`` that belong to ``trial`` (their first item), per part: what its task is given."""
    return {part: {key for key in keys if key[0] == trial} for part, keys in done.items()}


class _QueueSink:
    def __init__(self, rows, part: str):
        self.rows, self.part = rows, part

    def __call__(self, batch: list[dict]) -> None:
        self.rows.put((self.part, batch))


def runtime_env(packages=(), task: str | None = None) -> dict:
    """The Ray job ``runtime_env`` that ships ``packages`` (module objects) to every node (Ray accepts local folders
    only at the job level), and, for a task given as an import path (``"my_module:build_task"``), its top-level
    module when that is a local file or folder rather than an installed package (installed ones must be installed
    on every node too). ``run_on_ray`` uses it when it connects; pass it yourself when you call ``ray.init``:
    ``ray.init(address="auto", runtime_env=runtime_env(PACKAGES, config.task))``, ``PACKAGES`` of the study."""
    folders = [str(Path(package.__file__).parent) for package in packages]
    folders.extend(_local_task_module(task))
    env_vars = {name: os.environ[name] for name in ("TF_CPP_MIN_LOG_LEVEL",) if name in os.environ}
    return {"py_modules": folders, "excludes": ["__pycache__"], "env_vars": env_vars}


def trial_env_vars(num_threads: int) -> dict:
    """TensorFlow's intra-op threads as the configuration says (set before the worker's TensorFlow starts), and
    GPU memory that grows, so that trials sharing a GPU do not each take all of it."""
    return {"TF_NUM_INTRAOP_THREADS": str(num_threads), "TF_FORCE_GPU_ALLOW_GROWTH": "true"}


def check_cluster(ray, cpus: float, gpus: float) -> None:
    """A trial runs on one node: fail now, not hang, if no node has the resources one trial asks for."""
    nodes = [node["Resources"] for node in ray.nodes() if node.get("Alive")]
    if not any(node.get("CPU", 0) >= cpus and node.get("GPU", 0) >= gpus for node in nodes):
        available = [{"CPU": node.get("CPU", 0), "GPU": node.get("GPU", 0)} for node in nodes]
        raise ValueError(
            f"No node of the Ray cluster has the {cpus} CPU(s) and {gpus} GPU(s) one trial asks for "
            f"(num_cpus_per_trial, num_gpus_per_trial); its nodes have {available}. Lower those fields or add "
            "a node that has them."
        )


def _drain(rows) -> list[tuple[str, list[dict]]]:
    return rows.get_nowait_batch(rows.qsize()) if rows.qsize() else []


def _task_error(error) -> BaseException:
    """The exception the trial raised, carrying the worker's traceback as a note."""
    cause = error.cause if isinstance(getattr(error, "cause", None), BaseException) else error
    if cause is not error:
        cause.add_note(f"On the Ray worker: {error}")  # Ray's text holds the worker's traceback
    return cause


class _Writer:
    """Hands rows to the study's sinks once per key (a retried task can send a row again)."""

    def __init__(self, sinks: dict[str, RowSink], row_keys: dict[str, Callable[[dict], tuple]], progress):
        self.sinks, self.row_keys, self.progress = sinks, row_keys, progress
        self.recorded: dict[str, set] = {part: set() for part in sinks}
        self.num_rows = 0

    def write(self, batches: list[tuple[str, list[dict]]]) -> None:
        for part, rows in batches:
            new = []
            for row in rows:
                key = self.row_keys[part](row)
                if key not in self.recorded[part]:
                    self.recorded[part].add(key)
                    new.append(row)
            if new:
                self.sinks[part](new)
                self.num_rows += len(new)
                if self.progress is not None:
                    self.progress.set_postfix(rows=self.num_rows)


def _local_task_module(task: str | None) -> list[str]:
    """The file or folder of an import-path task's top-level module, if it is not an installed package."""
    if not isinstance(task, str) or not IMPORT_PATH.match(task):
        return []
    spec = importlib.util.find_spec(task.partition(":")[0].split(".")[0])
    if spec is None or spec.origin is None or any(part in ("site-packages", "dist-packages")
                                                  for part in Path(spec.origin).parts):
        return []
    origin = Path(spec.origin)
    return [str(origin.parent if spec.submodule_search_locations else origin)]
