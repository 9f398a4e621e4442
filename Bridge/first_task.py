"""Task A: the sequence a trial learns, one model trained on its first task with every training-time measure's
callbacks attached, and every measure's importances of that model, computed once.

The model is ``SequentialLearning``'s: a ``SequentialLearner`` with no penalty trains task A exactly as the
sequential runner does (fresh optimizer, the task's output mask, the data in the order drawn from
``(seed, 0, epoch)``), with the callbacks of every measure attached instead of one. Each measure is built as that
runner builds it (``get_importance`` with the trial's seed) and computed on the first ``num_importance_examples``
training examples of task A with task A's output mask, as ``SequentialLearner.consolidate`` computes it.

The trained state (``Runs.state.capture``: model, optimizer, every measure's training state) and the importances
(``importance/LABEL/<trainable weight's path>``) are checkpointed together in one ``.npz`` file, written and read
by ``Schema.arrays`` (atomic, keyed by variable path), so a trial stopped after task A goes on from the very same
model and importances. The temporary file of a killed write is removed when the trial opens its checkpoint again;
the checkpoint itself is removed once the trial is complete (``remove_first_task_checkpoint``), or, where a run
stopped between a trial's last rows and that removal, when a later run finds the trial complete
(``remove_complete_checkpoints``).
"""

from __future__ import annotations

import contextlib
import glob
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import WeightImportance
from Bridge.config import BridgeConfig, base_measure
from Bridge.paths import first_task_checkpoint
from Runs import state
from Runs.checkpoints import set_aside
from Schema import NO_PENALTY
from Schema.arrays import load_arrays, remove_leftovers, save_arrays
from SequentialLearning import SequenceTask, SequentialLearner, TaskSequence, get_importance, get_sequence, with_model

IMPORTANCE_PREFIX = "importance/"


@dataclass
class StudySequence:
    """The trial's task sequence (validation data: the reported split) and, per task, its selection split:
    training examples held out from training, on which λ is chosen."""

    sequence: TaskSequence
    selection: list[tuple[np.ndarray, np.ndarray]]


def build_sequence(config: BridgeConfig, seed: int) -> StudySequence:
    """The sequence of ``config`` for one trial's seed, with its model; each task's training data split into the
    examples trained on (the first ``num_train_examples``) and the ``num_selection_examples`` after them."""
    sequence = get_sequence(config.sequence, config.task, seed, num_tasks=config.num_tasks,
                            splits=config.splits or None, **config.task_options)
    sequence = with_model(sequence, config.model)
    tasks, selection = [], []
    held_out = config.num_selection_examples
    for task in sequence:
        x, y = task.train
        trained = config.num_train_examples if config.num_train_examples is not None else len(x) - held_out
        if trained < 1 or trained + held_out > len(x):
            raise ValueError(f"Task {task.name!r} has {len(x)} training examples: too few for "
                             f"num_train_examples={config.num_train_examples} and num_selection_examples="
                             f"{held_out} held out to choose λ. Lower one of them.")
        validation = tuple(a[: config.num_validation_examples] for a in task.validation)
        tasks.append(SequenceTask(task.name, (x[:trained], y[:trained]), validation, task.classes))
        selection.append((x[trained:trained + held_out], y[trained:trained + held_out]))
    return StudySequence(TaskSequence(sequence.name, sequence.task, tasks), selection)


@dataclass
class FirstTask:
    """Task A learnt: ``learner`` (no penalty; its ``model`` is the trained model), the ``measures`` that watched
    it and their ``importances`` of it, both by label."""

    learner: SequentialLearner
    measures: dict[str, WeightImportance.ImportanceMeasure]
    importances: dict[str, list[np.ndarray]]

    def state(self) -> dict[str, np.ndarray]:
        """The trained state: model, optimizer and every measure's training state (``Runs.state.capture``)."""
        return state.capture(self.learner.model, self.measures)


def new_learner(config: BridgeConfig, sequence: TaskSequence, label: str, seed: int,
                ewc_lambda: float = 0.0) -> SequentialLearner:
    """The ``SequentialLearner`` of one EWC importance (a label, or ``none``/``uniform``), as the sequential
    runner builds it."""
    return SequentialLearner(
        sequence, base_measure(label), ewc_lambda, epochs=config.epochs, seed=seed,
        importance_options=config.options_of(label), normalization=config.normalization,
        variant=config.ewc_variant, decay=config.ewc_decay, batch_size=config.batch_size,
        num_importance_examples=config.num_importance_examples,
        evaluation_batch_size=config.evaluation_batch_size, progress=config.progress,
    )


def learn_first_task(config: BridgeConfig, sequence: TaskSequence, seed: int, checkpoint: Path) -> FirstTask:
    """Train task A and compute every measure's importances, or read both back from ``checkpoint``."""
    remove_leftovers(checkpoint.parent, glob.escape(checkpoint.name))  # of a write killed before its rename
    if checkpoint.exists():
        first = _untrained(config, sequence, seed)
        try:
            first.importances = _load(checkpoint, first)
            return first
        except (OSError, ValueError, KeyError) as error:
            set_aside(checkpoint, ValueError(f"Checkpoint {checkpoint} cannot be used ({error})."),
                      "by training task A again")
    first = _untrained(config, sequence, seed)
    first.learner.train_task(0)
    task = sequence[0]
    data = tuple(a[: config.num_importance_examples] for a in task.train)
    first.learner.model.set_classes(task.classes)
    first.importances = {label: measure.compute(first.learner.model, data)
                         for label, measure in first.measures.items()}
    _save(checkpoint, first)
    return first


def _untrained(config: BridgeConfig, sequence: TaskSequence, seed: int) -> FirstTask:
    """A fresh learner with no penalty whose training every measure watches."""
    measures = {label: get_importance(base_measure(label), seed=seed, **config.options_of(label))
                for label in config.labels()}
    learner = new_learner(config, sequence, NO_PENALTY, seed)
    learner.callbacks = [callback for measure in measures.values() for callback in measure.callbacks()]
    return FirstTask(learner, measures, {})


def remove_first_task_checkpoint(checkpoint: Path) -> None:
    """Delete a complete trial's task A checkpoint, the temporary files of killed writes of it, and its folders
    where that leaves them empty."""
    checkpoint.unlink(missing_ok=True)
    remove_leftovers(checkpoint.parent, glob.escape(checkpoint.name))
    for folder in (checkpoint.parent, checkpoint.parent.parent):  # left empty by the last trial: removed
        with contextlib.suppress(OSError):
            folder.rmdir()


def remove_complete_checkpoints(config: BridgeConfig, remaining: list[int]) -> None:
    """Remove the task A checkpoints of the trials of ``config`` not in ``remaining`` (complete ones): a run that
    stopped between a trial's last rows and removing its checkpoint left it behind."""
    for trial in sorted(set(range(config.num_trials)) - set(remaining)):
        remove_first_task_checkpoint(first_task_checkpoint(config.results_dir, trial, config.epochs))


def _save(path: Path, first: FirstTask) -> None:
    arrays = first.state()
    model = first.learner.model
    for label, importances in first.importances.items():
        arrays.update({f"{IMPORTANCE_PREFIX}{label}/{key}": a
                       for key, a in state.weight_labels(model, importances).items()})
    save_arrays(path, arrays)


def _load(path: Path, first: FirstTask) -> dict[str, list[np.ndarray]]:
    arrays = load_arrays(path)
    model = first.learner.model
    importances = {}
    for label in first.measures:
        prefix = f"{IMPORTANCE_PREFIX}{label}/"
        labelled = {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}
        found = state.weight_arrays(model, labelled, f"Checkpoint {path}: the importances of {label!r} do not fit "
                                                     "the trainable weights")
        importances[label] = [np.asarray(a, np.float64) for a in found]
        if [a.shape for a in importances[label]] != [tuple(w.shape) for w in model.trainable_weights]:
            raise ValueError(f"the importances of {label!r} do not fit the model")
    state.restore(model, first.measures, arrays, source=f"Checkpoint {path}")
    return importances
