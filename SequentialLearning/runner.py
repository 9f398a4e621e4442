"""Run a sequential-learning experiment: for every trial, measure and λ, learn the sequence and record, after each
task, the accuracy and loss on every task seen so far.

Training on the first task does not depend on λ (nothing is consolidated yet), so for each (trial, measure) it is
done once: the first task is trained, evaluated and consolidated, the learner's state is kept
(``SequentialLearner.snapshot``), and every λ of the sweep continues from it. The result is the same as training
each λ from scratch.

A run (trial, measure, λ) writes its rows together when it ends; running the same configuration again skips the
completed runs, removes the rows of a run cut short, and redoes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm

from Runs import paths
from Runs.records import check_or_save_config
from Schema import sequential_run_key
from SequentialLearning.config import SequentialConfig
from SequentialLearning.models import with_model
from SequentialLearning.registry import get_sequence
from SequentialLearning.results import completed_runs, drop_incomplete_runs, results_writer
from SequentialLearning.sequence import TaskSequence
from SequentialLearning.training import SequentialLearner

RowSink = Callable[[list[dict]], None]


def run_sequential(config: SequentialConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    check_or_save_config(config, config.results_csv)
    writer = results_writer(config.results_csv)
    drop_incomplete_runs(config.results_csv, config.num_tasks)
    done = completed_runs(config.results_csv, config.num_tasks)
    runs = config.runs()
    bar = tqdm(total=config.num_trials * len(runs), desc="sequential runs", disable=not config.progress, unit="run")
    for trial in range(config.num_trials):
        run_trial(config, trial, sink=writer.append, done=done, on_run_end=lambda: bar.update(1))
    bar.close()
    return paths.results_csv(config.results_csv)


def build_sequence(config: SequentialConfig, seed: int) -> TaskSequence:
    """The task sequence of ``config`` for one trial's seed, with its model and example counts."""
    sequence = get_sequence(config.sequence, config.task, seed, num_tasks=config.num_tasks,
                            splits=config.splits or None, **config.task_options)
    sequence = with_model(sequence, config.model)
    return sequence.subset(config.num_train_examples, config.num_validation_examples)


def run_trial(config: SequentialConfig, trial: int, sink: RowSink | None = None, done: set | None = None,
              on_run_end: Callable[[], None] | None = None) -> None:
    """Run (or resume) trial ``trial``: every (measure, λ) not in ``done`` (default: read from the CSV).

    ``sink`` receives the rows of each finished run (default: appended to ``config.results_csv``).
    """
    seed = config.trial_seed(trial)
    if sink is None:
        sink = results_writer(config.results_csv).append
    if done is None:
        done = completed_runs(config.results_csv, config.num_tasks)
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
            base = {"trial": trial, "seed": seed, "task": config.task, "sequence": config.sequence,
                    "measure": measure, "lambda": float(ewc_lambda)}
            rows = _rows(base, 0, first, first_penalty)

            def record(index, evaluations, penalty, rows=rows, base=base):
                rows.extend(_rows(base, index, evaluations, penalty))

            learner.run(start=1, on_task_end=record)
            sink(rows)
            done.add(sequential_run_key(trial, measure, ewc_lambda))
            if on_run_end is not None:
                on_run_end()


def _rows(base: dict, trained_task: int, evaluations, penalty: float) -> list[dict]:
    return [{**base, "trained_task": trained_task, "evaluated_task": j, "accuracy": float(accuracy),
             "loss": float(loss), "penalty": float(penalty) if not math.isnan(penalty) else math.nan}
            for j, loss, accuracy in evaluations]
