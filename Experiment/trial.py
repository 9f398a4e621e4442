"""One trial of a thresholding experiment: train epoch by epoch, and after each measured epoch run its grid
(``Experiment.grid.EpochGrid``).

A trial is a plain function of (configuration, trial index): ``run_trial(config, trial)``. Rows are appended and
flushed after every evaluation; the state at each measured epoch is checkpointed, so running the same
configuration again skips what is recorded and goes on where the trial stopped.
"""

from __future__ import annotations

import math

from tqdm.auto import tqdm

import Tasks
from Experiment.config import ExperimentConfig
from Experiment.grid import EpochGrid, RowSink, expected_keys
from Experiment.measures import build_measures
from Experiment.results import read_keys, results_writer
from Runs.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
from Runs.evaluation import Evaluator
from Runs.progress import BatchProgress
from Runs.training import fit_epoch


def trial_complete(config: ExperimentConfig, trial: int, done: set) -> bool:
    """Whether every row of ``trial`` is among the recorded keys ``done``."""
    return all(expected_keys(config, trial, epoch) <= done for epoch in config.measured_epochs())


def run_trial(config: ExperimentConfig, trial: int, sink: RowSink | None = None, done: set | None = None) -> None:
    """Run (or resume) trial ``trial`` of ``config``: a plain function of its arguments and the files it writes.

    ``sink`` receives each new batch of rows (default: appended to ``config.results_csv``); ``done`` is the set
    of row keys already recorded (default: read from ``config.results_csv``).
    """
    seed = config.trial_seed(trial)
    if sink is None:
        sink = results_writer(config.results_csv).append
    if done is None:
        done = read_keys(config.results_csv)
    done = {key for key in done if key[0] == trial}
    if trial_complete(config, trial, done):
        return

    task = Tasks.get_task(config.task, seed=seed, **config.task_options)
    model = task.model
    measures = build_measures(config, seed)
    callbacks = [callback for measure in measures.values() for callback in measure.callbacks()]

    x_train, y_train = task.train
    validation = tuple(a[: config.num_validation_examples] for a in task.validation)
    train_subset = tuple(a[: config.num_train_examples] for a in task.train)
    classification = task.num_classes is not None
    evaluate_validation = Evaluator(model, task.loss, validation, config.evaluation_batch_size, classification)
    evaluate_train = Evaluator(model, task.loss, train_subset, config.evaluation_batch_size, classification)
    importance_data = tuple(a[: config.num_importance_examples] for a in task.train)

    def grid(epoch: int) -> EpochGrid:
        return EpochGrid(config, trial, epoch, task.name, model, measures, importance_data, evaluate_validation,
                         evaluate_train)

    start = 0
    checkpoint = latest_checkpoint(config.results_csv, trial)
    if checkpoint is not None:
        start, file = checkpoint
        load_checkpoint(file, model, measures)
        if not expected_keys(config, trial, start) <= done:
            grid(start).run(sink, done)

    batch_size = config.batch_size or task.batch_size
    steps = math.ceil(len(x_train) / batch_size)
    measured = config.measured_epochs()
    epochs = tqdm(range(start + 1, config.epochs + 1), desc=f"trial {trial} epochs", initial=start,
                  total=config.epochs, disable=not config.progress, unit="epoch")
    for epoch in epochs:
        history = fit_epoch(model, x_train, y_train, batch_size=batch_size, order_key=[seed, epoch], epoch=epoch,
                            callbacks=[*callbacks, BatchProgress(steps, f"epoch {epoch}", config.progress)])
        epochs.set_postfix(loss=f"{history.history['loss'][-1]:.4f}")
        if epoch in measured:
            save_checkpoint(config.results_csv, trial, epoch, model, measures)
            grid(epoch).run(sink, done)
    epochs.close()
