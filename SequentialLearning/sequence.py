"""Task sequences: what a sequential-learning run trains on, one task after another.

A ``TaskSequence`` holds the tasks (``SequenceTask``: name, train and validation arrays, and the classes the model
may predict on it) and builds the one model they share. Sequences are built from a registered task of ``Tasks``
through its public surface; each kind of sequence lives in its own module, registered in ``SEQUENCES``:

- ``split`` (``split.py``): the classes split into groups, one task per group, task-incremental (the output is
  restricted to the task's classes);
- ``permuted`` (``permuted.py``): every task has all the classes, with the input pixels in a fixed random order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

import Tasks


@dataclass(repr=False)
class SequenceTask:
    """One task of a sequence. ``classes``: the class ids the model may predict on it (None: all)."""

    name: str
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    classes: list[int] | None = None

    def __repr__(self) -> str:
        return (f"SequenceTask(name={self.name!r}, train={len(self.train[0])} examples, validation="
                f"{len(self.validation[0])} examples, classes={self.classes})")


@dataclass(repr=False)
class TaskSequence:
    """Tasks learnt one after another by one model built from ``task`` (a ``Tasks.Task``) with ``seed``."""

    name: str
    task: Tasks.Task = field(repr=False)
    tasks: list[SequenceTask]

    def __repr__(self) -> str:
        names = ", ".join(t.name for t in self.tasks)
        return f"TaskSequence(name={self.name!r}, task={self.task.name!r}, tasks=[{names}])"

    def __len__(self) -> int:
        return len(self.tasks)

    def __iter__(self):
        return iter(self.tasks)

    def __getitem__(self, index: int) -> SequenceTask:
        return self.tasks[index]

    @property
    def batch_size(self) -> int:
        return self.task.batch_size

    def build_model(self, seed: int | None = None) -> keras.Model:
        """A fresh compiled model of the underlying task (``Task.build_model``)."""
        return self.task.build_model(seed)

    def subset(self, num_train_examples: int | None = None, num_validation_examples: int | None = None) \
            -> "TaskSequence":
        """The same sequence with at most that many training / validation examples per task (the first ones)."""
        tasks = [SequenceTask(t.name, tuple(a[:num_train_examples] for a in t.train),
                              tuple(a[:num_validation_examples] for a in t.validation), t.classes)
                 for t in self.tasks]
        return TaskSequence(self.name, self.task, tasks)
