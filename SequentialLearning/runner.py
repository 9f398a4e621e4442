"""Run a sequential-learning experiment: for every trial, measure and λ, learn the sequence and record, after each
task, the accuracy and loss on every task seen so far.

Training on the first task does not depend on λ (nothing is consolidated yet), so for each (trial, measure) it is
done once: the first task is trained, evaluated and consolidated, the learner's state is kept
(``SequentialLearner.snapshot``), and every λ of the sweep continues from it. The result is the same as training
each λ from scratch.

A run (trial, measure, λ) writes its rows together when it ends; running the same configuration again skips the
completed runs, removes the rows of a run cut short, and redoes it. The results file is held as the thresholding
runner holds its own (``Runs.run_files``): locked, repaired before it is read, and the sequence's data built
before the configuration is written. Trials run one after another in this process or as Ray tasks
(``config.backend``; ``Runs.trials``, ``docs/ray.md``); a trial that raises does not stop the others, and one error
at the end names each failed trial.

The ``task`` column holds the name of the task the sequence is built from (``TaskSequence.task.name``), as the
thresholding runner writes it, so the two results files join on it also for a task given as
``"package.module:build_task"``. A file written before holds the configured string there instead; a run resuming
it writes the task's name into those rows as well (once, atomically), so the file holds one name for one task.
"""

from __future__ import annotations

import csv
import math
import warnings
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

import Runs
import Schema
import SequentialLearning
import Tasks
import WeightImportance
from Runs import paths
from Runs.files import replace_atomically
from Runs.ray_trials import ray_job, registering
from Runs.results import RowSink, read_rows
from Runs.run_files import RunFiles
from Runs.threads import use_num_threads
from Runs.trials import RESULTS, check_ray_installed, default_num_threads, raise_failures, run_trials
from Schema import SEQUENTIAL_COLUMNS, sequential_run_key
from SequentialLearning.config import SequentialConfig
from SequentialLearning.models import with_model
from SequentialLearning.registry import get_sequence
from SequentialLearning.results import WRITER, completed_runs, drop_incomplete_runs
from SequentialLearning.sequence import TaskSequence
from SequentialLearning.training import SequentialLearner


def run_sequential(config: SequentialConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    _run_held(config, range(config.num_trials))
    return paths.results_csv(config.results_csv)


# The packages a sequential trial needs on a Ray worker.
PACKAGES = (Schema, Runs, Tasks, WeightImportance, SequentialLearning)


def _run_held(config: SequentialConfig, trials) -> None:
    """Run ``trials`` holding the results file (``Runs.run_files``): nothing is written before the sequence's data
    are built, and the rows of runs cut short are removed before any run is redone."""
    check_ray_installed(config.backend)  # before anything is written
    with RunFiles(config, SEQUENTIAL_COLUMNS, WRITER,
                  default_num_threads=default_num_threads(config.backend, config.num_cpus_per_trial)) as files:
        config = files.config
        done = completed_runs(config.results_csv, config.num_tasks)
        runs = config.runs()
        pending = [trial for trial in trials
                   if not all(sequential_run_key(trial, measure, value) in done for measure, value in runs)]
        if not pending:
            return
        if config.backend == "local":
            use_num_threads(config.num_threads)
        # bad splits or options fail before anything is written
        task_name = build_sequence(config, config.trial_seed(0)).task.name
        files.save_config()
        drop_incomplete_runs(config.results_csv, config.num_tasks)
        _name_the_task(config.results_csv, config.task, task_name)
        bar = tqdm(total=len(trials), initial=len(trials) - len(pending), desc="sequential trials", unit="trial",
                   disable=not config.progress or len(trials) == 1)
        job = None
        if config.backend == "ray":
            job = ray_job(config, PACKAGES, registering(Tasks.register_task, Tasks.registered_tasks()),
                          results_csv=str(Path(config.results_csv).resolve()))
        try:
            failures = run_trials(sequential_trial, config, pending, {RESULTS: files.writer.append},
                                  {RESULTS: done}, {RESULTS: sequential_row_key}, backend=config.backend,
                                  progress=bar, job=job)
        finally:
            bar.close()
    raise_failures(config, failures, len(trials), num_run=len(pending))


def sequential_trial(config: SequentialConfig, trial: int, sinks: dict, done: dict) -> None:
    """``run_trial`` as ``Runs.trials`` calls a study's trial: one part, ``RESULTS``."""
    run_trial(config, trial, sink=sinks[RESULTS], done=done[RESULTS])


def sequential_row_key(row: dict) -> tuple:
    """The identity of a sequential row: its run (``Schema.sequential_run_key``) and the (trained, evaluated)
    tasks."""
    return (*sequential_run_key(row["trial"], row["measure"], row["lambda"]), int(row["trained_task"]),
            int(row["evaluated_task"]))


def build_sequence(config: SequentialConfig, seed: int) -> TaskSequence:
    """The task sequence of ``config`` for one trial's seed, with its model and example counts."""
    sequence = get_sequence(config.sequence, config.task, seed, num_tasks=config.num_tasks,
                            splits=config.splits or None, **config.task_options)
    sequence = with_model(sequence, config.model)
    return sequence.subset(config.num_train_examples, config.num_validation_examples)


def run_trial(config: SequentialConfig, trial: int, sink: RowSink | None = None, done: set | None = None,
              on_run_end: Callable[[], None] | None = None) -> None:
    """Run (or resume) trial ``trial``: every (measure, λ) not in ``done`` (default: read from the CSV).

    ``sink`` receives the rows of each finished run; without one, the trial holds ``config.results_csv`` as
    ``run_sequential`` does and appends to it. ``on_run_end`` is called after each run (done or skipped).
    """
    if sink is None:
        _run_held(config, [trial])
        return
    seed = config.trial_seed(trial)
    if done is None:
        done = completed_runs(config.results_csv, config.num_tasks)
    if config.num_threads is not None:
        use_num_threads(config.num_threads)
    pending = {}
    for measure, ewc_lambda in config.runs():
        if sequential_run_key(trial, measure, ewc_lambda) in done:
            if on_run_end is not None:
                on_run_end()
        else:
            pending.setdefault(measure, []).append(ewc_lambda)
    if not pending:
        return
    sequence = build_sequence(config, seed)
    for measure, lambdas in pending.items():
        learner = SequentialLearner(
            sequence, measure, lambdas[0], epochs=config.epochs, seed=seed,
            importance_options=config.measure_options.get(measure), normalization=config.normalization,
            variant=config.ewc_variant, decay=config.ewc_decay, batch_size=config.batch_size,
            num_importance_examples=config.num_importance_examples,
            evaluation_batch_size=config.evaluation_batch_size, progress=config.progress,
        )
        learner.train_task(0)
        first = [(0, *learner.evaluate(0))]
        first_penalty = learner.penalty()
        learner.consolidate(0)
        after_first = learner.snapshot()
        for ewc_lambda in lambdas:
            learner.restore(after_first)
            learner.model.ewc_lambda = ewc_lambda
            base = {"trial": trial, "seed": seed, "task": sequence.task.name, "sequence": config.sequence,
                    "measure": measure, "lambda": float(ewc_lambda)}
            rows = _rows(base, 0, first, first_penalty)

            def record(index, evaluations, penalty, rows=rows, base=base):
                rows.extend(_rows(base, index, evaluations, penalty))

            learner.run(start=1, on_task_end=record)
            sink(rows)
            done.add(sequential_run_key(trial, measure, ewc_lambda))
            if on_run_end is not None:
                on_run_end()


def _name_the_task(path, configured: str, name: str) -> None:
    """Write ``name`` into the ``task`` column of the rows of ``path`` that hold the ``configured`` string instead
    (files written before the column held the task's name; module docstring)."""
    if configured == name:
        return
    rows = read_rows(path, SEQUENTIAL_COLUMNS, WRITER)
    renamed = sum(row["task"] == configured for row in rows)
    if not renamed:
        return

    def write(temporary: Path) -> None:
        with temporary.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=SEQUENTIAL_COLUMNS)
            writer.writeheader()
            writer.writerows({**row, "task": name} if row["task"] == configured else row for row in rows)

    replace_atomically(path, write)
    warnings.warn(f"{path}: the task column of {renamed} rows held the configured task {configured!r}; it now holds "
                  f"the task's name {name!r}, as new rows (and thresholding results) do.", RuntimeWarning,
                  stacklevel=3)


def _rows(base: dict, trained_task: int, evaluations, penalty: float) -> list[dict]:
    return [{**base, "trained_task": trained_task, "evaluated_task": j, "accuracy": float(accuracy),
             "loss": float(loss), "penalty": float(penalty) if not math.isnan(penalty) else math.nan}
            for j, loss, accuracy in evaluations]
