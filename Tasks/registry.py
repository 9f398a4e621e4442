"""Registry: the name of every task and the function that builds it.

This literal dict is the external interface of the package: adding a task is one module with a
``build_task(seed=0, *, <options>) -> Task`` function plus one line here. The names are the values of the results
CSV's ``task`` column. A task's options are the keyword parameters of its ``build_task`` other than ``seed``.

Besides the built-in names, ``get_task`` accepts
- a name registered at run time with ``register_task(name, build_task)`` (e.g. a function in a notebook cell);
- ``"module:function"``, a ``build_task`` in your own importable module (``user_tasks.py``);
- ``"tfds:NAME"``, an image-classification data set of TensorFlow Datasets (``tensorflow_datasets.py``);
- ``"folder:PATH"``, a folder of images with one sub-folder per class (``image_folder.py``).
The prefixes ``tfds:`` and ``folder:`` are read before ``module:function``, so no module can be named by them.
"""

from __future__ import annotations

from collections.abc import Callable

from Tasks import cifar10, digits, fashion_mnist, function_approximation, iris, mnist
from Tasks import image_folder, tensorflow_datasets, user_tasks
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

_registered: dict[str, Callable[..., Task]] = {}


def register_task(name: str, build_task: Callable[..., Task]) -> None:
    """Make ``get_task(name, seed, **options)`` call ``build_task(seed=seed, **options)``, which returns a ``Task``.

    For a function that lives in no importable module (a notebook cell). Registering a name again replaces its
    function; built-in names cannot be replaced. Registrations live in this Python process only: a runner that
    starts other processes ships ``registered_tasks()`` with the trial and registers them there again.
    """
    if not isinstance(name, str) or not name.strip() or ":" in name:
        raise ValueError(
            f"A task name must be a non-empty string without ':' (':' marks 'module:function', 'tfds:NAME' and "
            f"'folder:PATH' tasks); got {name!r}."
        )
    if name in TASKS:
        raise ValueError(f"{name!r} is a built-in task and cannot be replaced; choose another name.")
    user_tasks.check_build_function(build_task, name)
    _registered[name] = build_task


def unregister_task(name: str) -> None:
    """Forget the task registered as ``name``."""
    if name not in _registered:
        raise ValueError(f"No task is registered as {name!r}; registered tasks: {sorted(_registered)}.")
    del _registered[name]


def registered_tasks() -> dict[str, Callable[..., Task]]:
    """The tasks registered with ``register_task``, name to function (a copy; built-ins are not included)."""
    return dict(_registered)


def available_tasks() -> list[str]:
    """The built-in and registered task names, sorted (``"module:function"``, ``"tfds:NAME"`` and
    ``"folder:PATH"`` are valid too)."""
    return sorted({*TASKS, *_registered})


def resolve_task_function(name: str) -> Callable[..., Task]:
    """The ``build_task`` function of ``name``: built-in, registered, ``"tfds:NAME"``, ``"folder:PATH"`` or
    ``"module:function"``.

    Raises ``ValueError`` for an unknown or malformed name (or a ``folder:`` path that is not a folder),
    ``ImportError`` for a module that cannot be imported (or TensorFlow Datasets not installed), ``TypeError`` for an
    entry point that is not a function of ``seed``.
    """
    if isinstance(name, str) and name in TASKS:
        return TASKS[name]
    if isinstance(name, str) and name in _registered:
        return _registered[name]
    if isinstance(name, str) and name.startswith(tensorflow_datasets.PREFIX):
        return tensorflow_datasets.task_function(name)
    if isinstance(name, str) and name.startswith(image_folder.PREFIX):
        return image_folder.task_function(name)
    if user_tasks.is_entry_point(name):
        return user_tasks.load_entry_point(name)
    raise ValueError(
        f"Unknown task {name!r}; valid tasks: {available_tasks()}, or {user_tasks.ENTRY_POINT_FORM} for a "
        f"build_task in your own module, '{tensorflow_datasets.PREFIX}NAME' for a TensorFlow Datasets data set, or "
        f"'{image_folder.PREFIX}PATH' for a folder of images with one sub-folder per class."
    )


def is_task_name(name: str) -> bool:
    """Whether ``get_task(name)`` can find a task function; ``resolve_task_function(name)`` says why not."""
    try:
        resolve_task_function(name)
    except (ValueError, ImportError, TypeError):
        return False
    return True


def task_options(name: str) -> list[str]:
    """The named options ``get_task(name, ...)`` accepts besides ``seed`` (a ``**kwargs`` function takes any)."""
    return user_tasks.option_names(resolve_task_function(name))


def check_task_options(name: str, options: dict) -> None:
    """Raise ``ValueError`` naming the options ``name`` does not take, and the valid ones; for config checks."""
    _check_options(name, resolve_task_function(name), options)


def get_task(name: str, seed: int = 0, **options) -> Task:
    """The task ``name`` with a fresh model built from ``seed``; ``options`` are listed by ``task_options(name)``."""
    build_task = resolve_task_function(name)
    _check_options(name, build_task, options)
    return user_tasks.check_is_task(build_task(seed=seed, **options), name)


def _check_options(name: str, build_task: Callable[..., Task], options: dict) -> None:
    if user_tasks.accepts_any_option(build_task):
        return
    valid_options = user_tasks.option_names(build_task)
    unknown = sorted(set(options) - set(valid_options))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for task {name!r}; valid options: {valid_options}.")
