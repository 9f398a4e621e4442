"""Registry: the name of every task and the function that builds it.

This literal dict is the external interface of the package: adding a task is one module with a
``build_task(seed=0, *, <options>) -> Task`` function plus one line here. The names are the values of the results
CSV's ``task`` column. A task's options are the keyword-only parameters of its ``build_task``.
"""

from __future__ import annotations

import inspect

from Tasks import cifar10, digits, fashion_mnist, function_approximation, iris, mnist
from Tasks.base import Task

TASKS = {
    "cifar10": cifar10.build_task,
    "digits": digits.build_task,
    "fashion_mnist": fashion_mnist.build_task,
    "function_approximation": function_approximation.build_task,
    "iris": iris.build_task,
    "mnist": mnist.build_task,
}

DEFAULT_TASK = "digits"


def available_tasks() -> list[str]:
    """The registered task names, sorted."""
    return sorted(TASKS)


def task_options(name: str) -> list[str]:
    """The options ``get_task(name, ...)`` accepts besides ``seed``."""
    parameters = inspect.signature(_build_function(name)).parameters.values()
    return [parameter.name for parameter in parameters if parameter.kind is inspect.Parameter.KEYWORD_ONLY]


def get_task(name: str, seed: int = 0, **options) -> Task:
    """The task ``name`` with a fresh model built from ``seed``; ``options`` are listed by ``task_options(name)``."""
    build_task = _build_function(name)
    valid_options = task_options(name)
    unknown = sorted(set(options) - set(valid_options))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for task {name!r}; valid options: {valid_options}.")
    return build_task(seed, **options)


def _build_function(name: str):
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; valid tasks: {available_tasks()}.")
    return TASKS[name]
