"""Split tasks: the classes of a task divided into groups learnt one after another (task-incremental).

Split MNIST in the setting of Zenke et al. 2017 ("Continual Learning Through Synaptic Intelligence") and
Hsu et al. 2018 ("Re-evaluating Continual Learning Scenarios"): task k holds only the examples of its classes
(``Tasks.get_task(name, labels=classes)``, labels keep their values), and the model's output is restricted to those
classes in training and evaluation (the other logits are masked, see ``ewc.OutputMask``).

``splits``: the class groups, e.g. ``[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]``; if empty, the classes 0..C-1 are cut
into ``num_tasks`` consecutive groups of (nearly) equal size: 2 tasks of 5 digits, 5 tasks of 2 (0/1, 2/3, ...).
"""

from __future__ import annotations

import numpy as np

import Tasks
from SequentialLearning.sequence import SequenceTask, TaskSequence

NAME = "split"


def class_groups(num_classes: int, num_tasks: int) -> list[list[int]]:
    """Classes 0..num_classes-1 in ``num_tasks`` consecutive groups of (nearly) equal size."""
    if not 2 <= num_tasks <= num_classes:
        raise ValueError(f"A split sequence of {num_classes} classes needs 2 to {num_classes} tasks; got {num_tasks}.")
    return [group.tolist() for group in np.array_split(np.arange(num_classes), num_tasks)]


def build_sequence(task: str = "digits", seed: int = 0, *, num_tasks: int = 2, splits=None,
                   **task_options) -> TaskSequence:
    """The split sequence of ``task`` (see the module docstring); ``task_options`` go to ``Tasks.get_task``."""
    if "labels" in task_options:
        raise ValueError("A split sequence chooses the labels of each task itself: give splits=[[...], ...] "
                         "instead of the task option labels.")
    whole = Tasks.get_task(task, seed=seed, **task_options)
    if not whole.is_classification:
        raise ValueError(f"A split sequence needs a classification task; {task!r} is a regression task.")
    if whole.is_binary:
        raise ValueError(f"A split sequence restricts the model's outputs to each task's classes, so it needs one "
                         f"output per class; the model of {task!r} has a single (binary) output. Use a permuted "
                         "sequence, or a model of num_classes outputs with SparseCategoricalCrossentropy.")
    groups = [list(map(int, group)) for group in splits] if splits else class_groups(whole.num_classes, num_tasks)
    flat = [c for group in groups for c in group]
    if len(groups) < 2 or any(not group for group in groups) or len(set(flat)) != len(flat):
        raise ValueError(f"splits must be at least two non-empty, disjoint lists of class ids; got {groups}.")
    tasks = []
    for classes in groups:
        part = Tasks.get_task(task, seed=seed, labels=classes, **task_options)
        name = f"{task}[{','.join(map(str, classes))}]"
        tasks.append(SequenceTask(name, part.train, part.validation, classes))
    return TaskSequence(NAME, whole, tasks)
