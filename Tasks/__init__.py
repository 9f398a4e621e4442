"""Tasks: data sets split into train and validation, each with its loss and a default model.

``get_task(name, seed=0, **options)`` returns a ``Task`` (``base.py``); ``available_tasks()`` lists the names and
``task_options(name)`` a task's options. ``make_task`` builds a task from your own arrays and model builder.
Each task lives in its own module (``digits.py``, ...) registered in ``registry.py``.

Your own model and data:
- the image and tabular tasks take a ``model`` option, ``build_named_model``'s specs (``MODEL_CHOICES``):
  ``"cnn"`` (the default), ``"small_cnn"``, ``"four_conv_cnn"``, ``"original_cnn"``, ``"mlp"``, ``"mlp:256,256"``;
- ``get_task("my_module:build_task")`` calls your ``build_task(seed=seed, **options)`` (``user_tasks.py``), and
  ``register_task(name, build_task)`` names one at run time (``registered_tasks()`` lists those);
- ``get_task("tfds:NAME")`` is an image-classification set of TensorFlow Datasets (``tensorflow_datasets.py``,
  optional: ``pip install -r requirements-tfds.txt``);
- ``get_task("folder:PATH")`` is a folder of images, one sub-folder per class (``image_folder.py``);
- classification models output ``num_classes`` logits, or one for a binary task with ``BinaryCrossentropy``
  (``targets.py``); ``with_named_model(task, "mlp")`` gives a task another of the named models;
- the image tasks take ``augmentation={"zoom": 0.1, "rotation": 0.05}``, applied in training only
  (``augmentation.py``; ``augmentation_layers`` for your own models).

Datasets are read from disk when possible (Fashion-MNIST from ``/usr/share/datasets/fashion-mnist`` or the Keras
cache) and otherwise downloaded through ``keras.datasets`` with a timeout; ``DatasetUnavailableError`` says where
a missing dataset was looked for and how to get it.
"""

from Tasks.augmentation import AUGMENTATIONS, augmentation_layers, check_augmentation
from Tasks.base import Task, classification_loss, make_task, regression_loss, select_labels
from Tasks.downloads import DatasetUnavailableError
from Tasks.models import MODEL_CHOICES, build_named_model, parse_model_spec, with_named_model
from Tasks.user_tasks import is_entry_point
from Tasks.registry import (
    DEFAULT_TASK,
    TASKS,
    available_tasks,
    check_task_options,
    get_task,
    is_task_name,
    register_task,
    registered_tasks,
    resolve_task_function,
    task_options,
    unregister_task,
)

__all__ = [
    "AUGMENTATIONS",
    "DEFAULT_TASK",
    "MODEL_CHOICES",
    "TASKS",
    "DatasetUnavailableError",
    "Task",
    "augmentation_layers",
    "available_tasks",
    "build_named_model",
    "check_augmentation",
    "is_entry_point",
    "parse_model_spec",
    "check_task_options",
    "classification_loss",
    "get_task",
    "is_task_name",
    "make_task",
    "regression_loss",
    "register_task",
    "registered_tasks",
    "resolve_task_function",
    "select_labels",
    "task_options",
    "unregister_task",
    "with_named_model",
]
