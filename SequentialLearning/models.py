"""The model a sequence is learnt with: the task's own, or one of ``Tasks``' named models, e.g. an MLP without
normalisation layers.

- ``"task"``: the task's default model (``Tasks``: for the image tasks a small CNN with BatchNormalization).
- ``"mlp"``: Flatten, two ReLU layers of 100 units, and a linear output layer of the task's width: the classic
  permuted-MNIST network (Goodfellow et al. 2013; Kirkpatrick et al. 2017 used this shape), with the task's
  optimizer. ``"mlp:256,256"`` sets the hidden widths; ``"small_cnn"`` and ``"four_conv_cnn"`` are the toolkit's
  CNNs and ``"original_cnn"`` the original toolkit's (``Tasks.build_named_model``: the same models a thresholding
  run gets with the task option ``model``).

Why the choice matters: BatchNormalization's moving statistics are not trainable weights, so the EWC penalty does
not hold them; training on a later task moves them to that task's activation statistics and the earlier task is
then evaluated with the wrong ones. On permuted inputs, whose statistics differ from task to task, that alone
causes most of the forgetting of the default CNN, whatever λ (on permuted ``digits``: accuracy on task 0 falls
from 0.95 to about 0.77 even when λ is so large that task 1 is not learnt). With ``"mlp"`` EWC removes it.
"""

from __future__ import annotations

import Tasks
from SequentialLearning.sequence import TaskSequence

TASK_MODEL = "task"
MODELS = (TASK_MODEL, "mlp", "mlp:<units>,<units>,...", "small_cnn", "four_conv_cnn", "original_cnn")


def check_model(model: str) -> None:
    """A ValueError unless ``model`` is ``"task"`` or a named model of ``Tasks`` other than the task-relative
    ``"cnn"``."""
    if model == TASK_MODEL:
        return
    if model == "cnn":
        raise ValueError(f"model 'cnn' means each task's own CNN; use {TASK_MODEL!r} for that. Valid: {list(MODELS)}.")
    Tasks.parse_model_spec(model)


def with_model(sequence: TaskSequence, model: str) -> TaskSequence:
    """``sequence`` learnt with the model ``model`` (``MODELS``) instead of the task's default
    (``Tasks.with_named_model``: the task's output width and training augmentation are kept)."""
    check_model(model)
    if model == TASK_MODEL:
        return sequence
    return TaskSequence(sequence.name, Tasks.with_named_model(sequence.task, model), sequence.tasks)
