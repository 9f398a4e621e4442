"""A task the built-in options cannot express, for the study's sequences: a registered task whose default model is
trained with another learning rate.

The built-in tasks fix Adam's learning rate (1e-3). On split Fashion-MNIST (0-4 then 5-9) with the task's CNN,
fine-tuning then forgets little of task A (about 0.1 of accuracy; see docs/bridge.md), too little to tell importances
apart; with Adam(1e-2) it forgets about a third. Use it as an import-path task (``Tasks``: ``module:function``):

    BridgeConfig(task="Bridge.tasks:with_learning_rate",
                 task_options={"base_task": "fashion_mnist", "learning_rate": 0.01}, sequence="split", model="task")

The task keeps the registered task's name, data, model and batch size; rows name it as the registered task
(``fashion_mnist``), and the configuration beside them records the learning rate.
"""

from __future__ import annotations

import Tasks


def with_learning_rate(seed: int = 0, *, base_task: str = "fashion_mnist", learning_rate: float = 1e-2,
                       **options) -> Tasks.Task:
    """The registered task ``base_task`` (built with ``options``, e.g. ``labels``, ``data_dir``) whose models are
    compiled with ``Adam(learning_rate)``. (Not ``task``: the sequences take that name for themselves.)"""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}.")
    base = Tasks.get_task(base_task, seed=seed, **options)
    return Tasks.make_task(base.name, base.train, base.validation, base.model_builder, base.loss, base.num_classes,
                           base.batch_size, base.seed, float(learning_rate), class_names=base.class_names,
                           augmentation=base.augmentation)
