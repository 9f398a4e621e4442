"""The model a sequence is learnt with: the task's own, or an MLP without normalisation layers.

- ``"task"``: the task's default model (``Tasks``: for the image tasks a small CNN with BatchNormalization).
- ``"mlp"``: Flatten, ``MLP_HIDDEN_UNITS`` ReLU layers, and a linear output layer of the task's width: the classic
  permuted-MNIST network (Goodfellow et al. 2013; Kirkpatrick et al. 2017 used this shape), Adam(1e-3).

Why the choice matters: BatchNormalization's moving statistics are not trainable weights, so the EWC penalty does
not hold them; training on a later task moves them to that task's activation statistics and the earlier task is
then evaluated with the wrong ones. On permuted inputs, whose statistics differ from task to task, that alone
causes most of the forgetting of the default CNN, whatever λ (on permuted ``digits``: accuracy on task 0 falls
from 0.95 to about 0.77 even when λ is so large that task 1 is not learnt). With ``"mlp"`` EWC removes it.
"""

from __future__ import annotations

import keras
import numpy as np

import Tasks
from SequentialLearning.sequence import TaskSequence

MODELS = ("task", "mlp")
MLP_HIDDEN_UNITS = (100, 100)


def mlp(input_shape: tuple[int, ...], num_classes: int, hidden_units: tuple[int, ...] = MLP_HIDDEN_UNITS,
        name: str = "mlp") -> keras.Model:
    """Flatten, ReLU Dense layers of ``hidden_units``, Dense(num_classes) logits."""
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Flatten(),
         *(keras.layers.Dense(units, activation="relu") for units in hidden_units),
         keras.layers.Dense(num_classes)],
        name=name,
    )


def with_model(sequence: TaskSequence, model: str) -> TaskSequence:
    """``sequence`` learnt with the model ``model`` (``MODELS``) instead of the task's default."""
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; valid models: {list(MODELS)}.")
    if model == "task":
        return sequence
    task = sequence.task
    if not task.is_classification:
        raise ValueError(f"The {model!r} model is for classification tasks; {task.name!r} is a regression task.")
    input_shape = tuple(np.shape(task.train[0])[1:])
    replaced = Tasks.make_task(task.name, task.train, task.validation,
                               lambda seed: mlp(input_shape, task.num_classes, name=f"{task.name}_mlp"),
                               task.loss, task.num_classes, task.batch_size, task.seed, task.learning_rate)
    return TaskSequence(sequence.name, replaced, sequence.tasks)
