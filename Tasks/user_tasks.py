"""Tasks from your own code: a ``build_task`` function named by entry point (``"my_package.my_module:build_task"``),
or one registered at run time under a name (``registry.register_task``).

A user ``build_task`` is called as ``build_task(seed=seed, **options)`` and must return a ``Task`` (usually from
``Tasks.make_task``); its options are its keyword parameters other than ``seed``, and a ``**kwargs`` parameter
accepts any option. The entry-point notation is Python's packaging one, ``module:attribute`` (the attribute may be
dotted, ``module:Class.method``); the module must be importable from ``sys.path``, e.g. a ``my_module.py`` in the
working directory or an installed package.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Callable

from Tasks.base import Task

DOTTED_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
ENTRY_POINT_PATTERN = re.compile(rf"^(?P<module>{DOTTED_NAME}):(?P<attribute>{DOTTED_NAME})$")
ENTRY_POINT_FORM = "'my_package.my_module:build_task'"


def is_entry_point(name: str) -> bool:
    """Whether ``name`` is written ``module:function`` (whether or not the module exists)."""
    return isinstance(name, str) and ENTRY_POINT_PATTERN.match(name) is not None


def load_entry_point(name: str) -> Callable:
    """The function ``module:attribute`` names, imported; errors say what is wrong and how to fix it.

    Raises ``ValueError`` for a malformed name or a missing attribute, ``ImportError`` if the module cannot be
    found, ``TypeError`` if the attribute is not callable or cannot take ``seed``. An error raised while the module
    itself is imported (a bug in it, or a package it needs) propagates unchanged.
    """
    match = ENTRY_POINT_PATTERN.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"Task {name!r} is not of the form 'module:function', e.g. {ENTRY_POINT_FORM}.")
    module_name, attribute = match["module"], match["attribute"]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if not _is_module_or_parent(error.name, module_name):
            raise
        raise ImportError(
            f"Cannot import module {module_name!r} of task {name!r}: {error}. The module must be importable on "
            f"sys.path, e.g. {module_name.replace('.', '/')}.py in the working directory (the folder Python or the "
            f"notebook runs in, now {sys.path[0] or '.'!r}) or an installed package (pip install -e <your project>)."
        ) from error
    function = module
    for part in attribute.split("."):
        if not hasattr(function, part):
            defined = sorted(key for key, value in vars(module).items() if callable(value) and not key.startswith("_"))
            raise ValueError(
                f"Module {module_name!r} ({getattr(module, '__file__', '?')}) has no attribute {attribute!r} for task "
                f"{name!r}; its public callables are {defined}."
            )
        function = getattr(function, part)
    check_build_function(function, name)
    return function


def check_build_function(function: Callable, name: str) -> None:
    """Raise ``TypeError`` unless ``function`` is callable and takes ``seed`` as a keyword."""
    if not callable(function):
        raise TypeError(
            f"Task {name!r} names {type(function).__name__} {function!r}, which is not callable; it must be a "
            "function build_task(seed=0, **options) -> Tasks.Task."
        )
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return  # a builtin or C function without a signature: trust it
    if "seed" not in parameters and not accepts_any_option(function):
        raise TypeError(
            f"The function of task {name!r} takes {list(parameters)}; it must take a seed keyword: "
            "build_task(seed=0, **options) -> Tasks.Task."
        )


def option_names(function: Callable) -> list[str]:
    """The options of a ``build_task``: its parameters that can be passed by keyword, other than ``seed``."""
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = inspect.signature(function).parameters.values()
    return [p.name for p in parameters if p.kind in keyword_kinds and p.name != "seed"]


def accepts_any_option(function: Callable) -> bool:
    """Whether ``function`` takes ``**kwargs``."""
    parameters = inspect.signature(function).parameters.values()
    return any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters)


def check_is_task(task, name: str) -> Task:
    """``task`` if it is a ``Task``; otherwise a ``TypeError`` saying what ``name``'s function returned."""
    if not isinstance(task, Task):
        raise TypeError(
            f"The function of task {name!r} returned {type(task).__name__}; it must return a Tasks.Task, e.g. "
            "Tasks.make_task(name, train, validation, build_model, loss, num_classes, batch_size, seed)."
        )
    return task


def _is_module_or_parent(missing: str | None, module_name: str) -> bool:
    """Whether the missing module is ``module_name`` or a package it lives in (not something it imports)."""
    return missing is not None and (module_name == missing or module_name.startswith(missing + "."))
