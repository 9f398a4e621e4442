"""Tasks: data sets split into train and validation, each with its loss and a default model.

``get_task(name, seed=0, **options)`` returns a ``Task`` (``base.py``); ``available_tasks()`` lists the names and
``task_options(name)`` a task's options. ``make_task`` builds a task from your own arrays and model builder.
Each task lives in its own module (``digits.py``, ...) registered in ``registry.py``.

Datasets are read from disk when possible (Fashion-MNIST from ``/usr/share/datasets/fashion-mnist`` or the Keras
cache) and otherwise downloaded through ``keras.datasets`` with a timeout; ``DatasetUnavailableError`` says where
a missing dataset was looked for and how to get it.
"""

from Tasks.base import Task, classification_loss, make_task, regression_loss, select_labels
from Tasks.downloads import DatasetUnavailableError
from Tasks.registry import DEFAULT_TASK, TASKS, available_tasks, get_task, task_options

__all__ = [
    "DEFAULT_TASK",
    "TASKS",
    "DatasetUnavailableError",
    "Task",
    "available_tasks",
    "classification_loss",
    "get_task",
    "make_task",
    "regression_loss",
    "select_labels",
    "task_options",
]
