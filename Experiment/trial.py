"""One trial of a thresholding experiment: train epoch by epoch, and after each measured epoch run its grid
(``Experiment.grid.EpochGrid``).

A trial is a plain function of (configuration, trial index): ``run_trial(config, trial)``. Rows are appended and
flushed after every evaluation, and the state at every measured epoch is checkpointed
(``Runs.checkpoints``). Running the same configuration again measures exactly the rows missing from the results
file, whichever they are: a measured epoch that lacks rows is measured again from its checkpoint, or, where its
checkpoint is missing or cannot be read, from the latest earlier state trained on (from scratch if there is none).
Training is deterministic (seeded order, state restored exactly), so every row equals that of a run that never
stopped.
"""

from __future__ import annotations

import math

from tqdm.auto import tqdm

import Tasks
import WeightImportance
from Experiment import budget
from Experiment.config import ExperimentConfig
from Experiment.grid import EpochGrid, expected_keys
from Experiment.measures import build_measures
from Experiment.results import WRITER, columns_of, keys_of, read_keys
from Runs.checkpoints import (CheckpointError, checkpoints, load_checkpoint, remove_leftover_files, save_checkpoint,
                              set_aside)
from Runs.evaluation import Evaluator
from Runs import paths
from Runs.progress import BatchProgress
from Runs.results import RowSink
from Runs.run_files import RunFiles
from Runs.tensorboard import TrialLog, logging_sink
from Runs.threads import num_threads_in_use, use_num_threads
from Runs.training import fit_epoch


def trial_complete(config: ExperimentConfig, trial: int, done: set) -> bool:
    """Whether every row of ``trial`` is among the recorded keys ``done``."""
    return not missing_epochs(config, trial, done)


def missing_epochs(config: ExperimentConfig, trial: int, done: set) -> list[int]:
    """The measured epochs of ``trial`` with a row that is not among the recorded keys ``done``."""
    return [epoch for epoch in config.measured_epochs() if not expected_keys(config, trial, epoch) <= done]


def run_trial(config: ExperimentConfig, trial: int, sink: RowSink | None = None, done: set | None = None) -> None:
    """Run (or resume) trial ``trial`` of ``config``: a plain function of its arguments and the files it writes.

    ``sink`` receives each new batch of rows and ``done`` holds the keys of the rows already recorded (read from
    ``config.results_csv`` if None); ``run_trials`` passes both and holds the results file. Without a ``sink`` the
    trial holds the file itself as ``run_trials`` does (lock, repair, recorded configuration; ``Runs.run_files``)
    and appends to it.
    """
    if sink is not None:
        _run(config, trial, sink, read_keys(config.results_csv) if done is None else set(done))
        return
    with RunFiles(config, columns_of(config.results_csv), WRITER, default_num_threads=num_threads_in_use()) as files:
        config = files.config
        recorded = keys_of(files.rows()) | set(done or ())
        if trial_complete(config, trial, recorded):
            return
        use_num_threads(config.num_threads)
        work = _Trial(config, trial)  # builds the task's data first: a bad option fails before anything is written
        files.save_config()
        work.run(files.writer.append, recorded)


def _run(config: ExperimentConfig, trial: int, sink: RowSink, done: set) -> None:
    if trial_complete(config, trial, done):
        return
    if config.num_threads is not None:
        use_num_threads(config.num_threads)
    _Trial(config, trial).run(sink, done)


class _Trial:
    """A trial's task, model, measures and evaluators, and the epoch its model has been trained to."""

    def __init__(self, config: ExperimentConfig, trial: int):
        self.config, self.trial = config, trial
        self.seed = config.trial_seed(trial)
        self.task = Tasks.get_task(config.task, seed=self.seed, **config.task_options)
        self.model = self.task.model
        self.measures = build_measures(config, self.seed)
        self.callbacks = [callback for measure in self.measures.values() for callback in measure.callbacks()]
        classification = self.task.num_classes is not None
        validation = tuple(a[: config.num_validation_examples] for a in self.task.validation)
        train_subset = tuple(a[: config.num_train_loss_examples] for a in self.task.train)
        # With validation_precision a row may use a prefix of the examples, so they are put in a seeded order.
        self.per_example = config.validation_precision is not None
        self.evaluate_validation = Evaluator(self.model, self.task.loss, validation, config.evaluation_batch_size,
                                             classification, order_seed=self.seed if self.per_example else None)
        self.evaluate_train = Evaluator(self.model, self.task.loss, train_subset, config.evaluation_batch_size,
                                        classification)
        self.importance_data = tuple(a[: config.num_importance_examples] for a in self.task.train)
        self.epoch = 0
        self.trained_validation: dict[int, budget.Evaluated] = {}  # this model's, by epoch trained to
        self.log = None if config.tensorboard_dir is None else TrialLog(config.tensorboard_dir, trial)

    def run(self, sink: RowSink, done: set) -> None:
        """Measure the rows not in ``done``: for each measured epoch that lacks some, bring the model to that epoch
        (its checkpoint, else the latest earlier state trained on) and run its grid."""
        config = self.config
        remove_leftover_files(config.results_csv, self.trial)
        saved = checkpoints(config.results_csv, self.trial)
        bar = tqdm(total=config.epochs, desc=f"trial {self.trial} epochs", disable=not config.progress, unit="epoch")
        sink = logging_sink(sink, self.log)
        try:
            for epoch in missing_epochs(config, self.trial, done):
                self._load_latest(saved, epoch)
                bar.n = self.epoch
                bar.refresh()
                while self.epoch < epoch:
                    self._train_next_epoch(saved, bar)
                EpochGrid(config, self.trial, epoch, self.task.name, self.model, self.measures, self.importance_data,
                          self.evaluate_validation, self.evaluate_train,
                          importances_computed=lambda label, arrays, epoch=epoch: self._computed(epoch, label, arrays),
                          num_classes=self.task.num_classes,
                          trained_validation=self.trained_validation.pop(epoch, None)).run(sink, done)
        finally:
            bar.close()
            if self.log is not None:
                self.log.close()

    def _computed(self, epoch: int, label: str, importances: list) -> None:
        """What is kept of a measure's importances computed at ``epoch``: saved beside the results
        (``save_importances``) and their histograms in the TensorBoard log (``tensorboard_dir``)."""
        config = self.config
        if config.save_importances:
            WeightImportance.save_importances(
                paths.importances_file(config.results_csv, self.trial, epoch, label), self.model, importances,
                measure=label, options=config.measure_options.get(label, {}), task=self.task.name, trial=self.trial,
                epoch=epoch, seed=self.seed)
        if self.log is not None:
            self.log.importances(epoch, label, [v.path for v in self.model.trainable_weights], importances)

    def _load_latest(self, saved: dict, epoch: int) -> None:
        """Load the latest checkpoint after the model's epoch and up to ``epoch`` that can be read; one that cannot
        is set aside (``Runs.checkpoints.set_aside``) and the next earlier one tried."""
        for candidate in sorted((e for e in saved if self.epoch < e <= epoch), reverse=True):
            try:
                load_checkpoint(saved[candidate], self.model, self.measures)
            except CheckpointError as error:
                set_aside(saved.pop(candidate), error, f"from the latest earlier state it can read (now epoch "
                          f"{max([e for e in saved if self.epoch < e < candidate], default=self.epoch)}), training "
                          f"again up to epoch {epoch}")
                continue
            self.epoch = candidate
            self.trained_validation.clear()
            return

    def _train_next_epoch(self, saved: dict, bar) -> None:
        config, epoch = self.config, self.epoch + 1
        batch_size = config.batch_size or self.task.batch_size
        x_train, y_train = self.task.train
        steps = math.ceil(len(x_train) / batch_size)
        history = fit_epoch(self.model, x_train, y_train, batch_size=batch_size, order_key=[self.seed, epoch],
                            epoch=epoch, callbacks=[*self.callbacks,
                                                    BatchProgress(steps, f"epoch {epoch}", config.progress)])
        self.epoch = epoch
        self.trained_validation.clear()
        if self.log is not None:  # the validation examples the grid evaluates, after every epoch trained
            # The evaluation the grid of a measured epoch starts from (its rows at f = 0): made once for both.
            validation = budget.evaluate_all(self.evaluate_validation, self.per_example)
            if epoch in config.measured_epochs():
                self.trained_validation[epoch] = validation
            self.log.epoch(epoch, {name: values[-1] for name, values in history.history.items()},
                           (validation.loss, validation.accuracy))
        bar.update(1)
        bar.set_postfix(loss=f"{history.history['loss'][-1]:.4f}")
        if epoch in config.measured_epochs() and epoch not in saved:
            saved[epoch] = save_checkpoint(config.results_csv, self.trial, epoch, self.model, self.measures)
