"""Training one model on a task sequence with an EWC penalty from any importance measure.

For each task k in order: the optimizer's state is reset (moments and step count: a fresh optimizer per task), the
output is restricted to the task's classes, the model is trained for ``epochs`` epochs (the data in an order drawn
from ``(seed, k, epoch)``; the measure's callbacks attached to every ``fit``, so training-time measures keep
tracking across tasks), evaluated on every task seen so far (each with its own classes), and then, unless it is
the last task, the measure is computed on the task's training data (at most ``num_importance_examples``, with the
task's output mask) and consolidated into the penalty (``EWCModel.consolidate``).

    learner = SequentialLearner(sequence, "fisher", ewc_lambda=1.0, epochs=3, seed=0)
    result = learner.run()          # result.accuracy[i, j]: accuracy on task j after training task i
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from Runs import state
from Runs.evaluation import Evaluator, compiled_sums
from Runs.progress import BatchProgress
from Runs.training import fit_epoch
from SequentialLearning.ewc import EWCModel, ewc_model
from SequentialLearning.importance import NO_PENALTY, get_importance
from SequentialLearning.sequence import TaskSequence


@dataclass
class SequenceResult:
    """``accuracy[i, j]`` and ``loss[i, j]``: on task j's validation data after training task i (NaN for j > i);
    ``penalty[i]``: the EWC penalty at the end of training task i."""

    accuracy: np.ndarray
    loss: np.ndarray
    penalty: np.ndarray


class SequentialLearner:
    """One model learning ``sequence`` task by task with the EWC importance ``importance`` (see module docstring).

    ``importance``: ``"none"``, ``"uniform"`` or a registered measure name (``importance.py``);
    ``importance_options``: that measure's options (its ``seed`` defaults to ``seed``). ``ewc_lambda``, ``variant``,
    ``decay``, ``normalization``: see ``ewc.py``. ``batch_size``: default the task's.
    """

    def __init__(self, sequence: TaskSequence, importance: str = "fisher", ewc_lambda: float = 1.0, *, epochs: int = 1,
                 seed: int = 0, importance_options: dict | None = None, normalization: str = "mean",
                 variant: str = "separate", decay: float = 1.0, batch_size: int | None = None,
                 num_importance_examples: int | None = None, evaluation_batch_size: int = 1024,
                 progress: bool = False):
        if not sequence.task.is_classification:
            raise ValueError(f"Sequential learning here measures accuracy and masks classes, so it needs a "
                             f"classification task; {sequence.task.name!r} is a regression task.")
        if importance == NO_PENALTY and ewc_lambda != 0:
            ewc_lambda = 0.0
        self.sequence = sequence
        self.importance = importance
        self.seed = int(seed)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size or sequence.batch_size)
        self.num_importance_examples = num_importance_examples
        self.progress = progress
        self.measure = get_importance(importance, seed=self.seed, **(importance_options or {}))
        self.model: EWCModel = ewc_model(sequence.build_model(self.seed), ewc_lambda=ewc_lambda,
                                         normalization=normalization, variant=variant, decay=decay)
        self.model.optimizer.build(self.model.trainable_variables)
        self._fresh_optimizer = [np.array(v) for v in self.model.optimizer.variables]
        sums = compiled_sums(self.model, self.model.loss)  # one compiled function for every task
        self._evaluators = [Evaluator(self.model, self.model.loss, task.validation, evaluation_batch_size, sums=sums)
                            for task in sequence]
        self.callbacks = self.measure.callbacks() if self.measure is not None else []

    # -- one step of the sequence ------------------------------------------------------------------------------
    def train_task(self, index: int) -> None:
        """Train on task ``index`` for ``epochs`` epochs, starting from a fresh optimizer state."""
        task = self.sequence[index]
        for variable, value in zip(self.model.optimizer.variables, self._fresh_optimizer):
            variable.assign(value)
        self.model.set_classes(task.classes)
        x, y = task.train
        progress = BatchProgress(self.epochs * math.ceil(len(x) / self.batch_size), f"task {index} {task.name}",
                                 self.progress, close_at_train_end=False)
        try:
            for epoch in range(1, self.epochs + 1):
                fit_epoch(self.model, x, y, batch_size=self.batch_size, order_key=[self.seed, index, epoch],
                          callbacks=[*self.callbacks, progress])
        finally:
            progress.close()

    def evaluate(self, index: int) -> tuple[float, float]:
        """(loss, accuracy) on task ``index``'s validation data, with that task's classes; the mask is restored."""
        with self.model.classes_set(self.sequence[index].classes):
            return self._evaluators[index]()

    def consolidate(self, index: int) -> None:
        """Compute the importance on task ``index``'s training data and add its EWC term (nothing for ``none``)."""
        if self.measure is None:
            return
        task = self.sequence[index]
        with self.model.classes_set(task.classes):
            data = tuple(a[: self.num_importance_examples] for a in task.train)
            self.model.consolidate(self.measure.compute(self.model, data))

    def penalty(self) -> float:
        return float(self.model.penalty())

    # -- the whole sequence --------------------------------------------------------------------------------------
    def run(self, start: int = 0, on_task_end=None) -> SequenceResult:
        """Train tasks ``start``, ``start + 1``, ... (earlier ones are taken as done); ``on_task_end(index,
        evaluations, penalty)`` receives ``[(j, loss, accuracy) for every task j <= index]`` after each task."""
        count = len(self.sequence)
        accuracy, loss = np.full((count, count), np.nan), np.full((count, count), np.nan)
        penalty = np.full(count, np.nan)
        for index in range(start, count):
            self.train_task(index)
            evaluations = [(j, *self.evaluate(j)) for j in range(index + 1)]
            penalty[index] = self.penalty()
            for j, task_loss, task_accuracy in evaluations:
                loss[index, j], accuracy[index, j] = task_loss, task_accuracy
            if on_task_end is not None:
                on_task_end(index, evaluations, penalty[index])
            if index < count - 1:
                self.consolidate(index)
        return SequenceResult(accuracy, loss, penalty)

    # -- forking after a task (the runner's λ sweep) ---------------------------------------------------------------
    def snapshot(self) -> dict:
        """Model variables (weights, normalisation statistics, dropout seeds, mask), optimizer state, the measure's
        training state and the consolidated penalty (not λ): ``restore`` returns the learner to this point."""
        return {"state": state.capture(self.model, self._measures()),
                "consolidation": self.model.get_consolidation()}

    def restore(self, snapshot: dict) -> None:
        state.restore(self.model, self._measures(), snapshot["state"])
        self.model.set_consolidation(snapshot["consolidation"])

    def _measures(self) -> dict:
        return {} if self.measure is None else {self.importance: self.measure}


def train_sequence(sequence: TaskSequence, importance: str = "fisher", ewc_lambda: float = 1.0, **options) \
        -> SequenceResult:
    """Train a fresh model on ``sequence`` with EWC; ``options`` as for ``SequentialLearner``."""
    return SequentialLearner(sequence, importance, ewc_lambda, **options).run()

