"""The model a sequence is learnt with: the task's own, or one of ``Tasks``' named models, e.g. an MLP without
normalisation layers.

- ``"task"``: the task's default model (``Tasks``: for the image tasks a small CNN with BatchNormalization).
- ``"mlp"``: Flatten, two ReLU layers of 100 units, and a linear output layer of the task's width: the classic
  permuted-MNIST network (Goodfellow et al. 2013; Kirkpatrick et al. 2017 used this shape), with the task's
  optimizer. ``"mlp:256,256"`` sets the hidden widths; ``"small_cnn"`` and ``"four_conv_cnn"`` are the toolkit's
  CNNs (``Tasks.build_named_model``: the same models a thresholding run gets with the task option ``model``).

Why the choice matters: BatchNormalization's moving statistics are not trainable weights, so the EWC penalty does
not hold them; training on a later task moves them to that task's activation statistics and the earlier task is
then evaluated with the wrong ones. On permuted inputs, whose statistics differ from task to task, that alone
causes most of the forgetting of the default CNN, whatever λ (on permuted ``digits``: accuracy on task 0 falls
from 0.95 to about 0.77 even when λ is so large that task 1 is not learnt). With ``"mlp"`` EWC removes it.
"""

from __future__ import annotations

import numpy as np

import Tasks
from SequentialLearning.sequence import TaskSequence

TASK_MODEL = "task"
MODELS = (TASK_MODEL, "mlp", "mlp:<units>,<units>,...", "small_cnn", "four_conv_cnn")


def check_model(model: str) -> None:
    """A ValueError unless ``model`` is ``"task"`` or a named model of ``Tasks`` other than the task-relative
    ``"cnn"``."""
    if model == TASK_MODEL:
        return
    if model == "cnn":
        raise ValueError(f"model 'cnn' means each task's own CNN; use {TASK_MODEL!r} for that. Valid: {list(MODELS)}.")
    Tasks.parse_model_spec(model)


def with_model(sequence: TaskSequence, model: str) -> TaskSequence:
    """``sequence`` learnt with the model ``model`` (``MODELS``) instead of the task's default."""
    check_model(model)
    if model == TASK_MODEL:
        return sequence
    task = sequence.task
    if not task.is_classification:
        raise ValueError(f"The {model!r} model is for classification tasks; {task.name!r} is a regression task.")
    input_shape = tuple(np.shape(task.train[0])[1:])
    kind = model.partition(":")[0]
    replaced = Tasks.make_task(
        task.name, task.train, task.validation,
        lambda seed: Tasks.build_named_model(model, input_shape, task.num_classes, name=f"{task.name}_{kind}"),
        task.loss, task.num_classes, task.batch_size, task.seed, task.learning_rate)
    return TaskSequence(sequence.name, replaced, sequence.tasks)
