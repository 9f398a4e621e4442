"""Importances kept for later: one compressed ``.npz`` file per computed set of importances.

    WeightImportance.save_importances(path, model, importances, measure="fisher", options={"labels": "data"},
                                      task="digits", trial=0, epoch=5)
    importances = WeightImportance.load_importances(path, model)     # model.trainable_weights order
    WeightImportance.read_importances_info(path)   # {"measure", "options", "metadata", "paths"}

The file (``np.savez_compressed``) holds one float64 array per trainable weight, keyed by the variable's Keras 3
``path`` (e.g. ``"digits/dense/kernel"``), never by position or ``tf.Variable.name``, so a file is read back only
into a model whose trainable weights have the same paths and shapes; anything else is refused with the paths
that differ. Beside the arrays: the measure's name, its options and free metadata (trial, epoch, task, ...), as
JSON text, under keys that start with ``__`` (``RESERVED_KEYS``). No pickles: loading never runs code.

Paths come from layer names. Arrays are matched by exact path first. Keras numbers automatic names per process
(a layer of class ``Conv2D`` is named ``conv2d``, ``conv2d_1``, ...: ``<class name in snake case>_<n>``), so a
second model of the same architecture built in the same process has other paths. Only when the paths do not
match exactly, and the model's and the file's paths differ only in such automatic numbers, the tensors are
matched in order (same number of tensors, same kind and shape in the same order). A number counts as automatic
only on the name of a layer (or model) whose name is its class's snake-case name, alone or followed by
``_<n>``: ``dense_3`` on a ``Dense`` layer matches ``dense`` or ``dense_7``; a name the user chose, such as
``block_1`` on a ``Dense`` layer, matches only itself (``block_2`` is another layer). A user who names a
``Dense`` layer ``dense_5`` by hand chose a name Keras could have chosen, which cannot be told apart.

The file is written atomically: to a temporary file in the same folder, flushed to disk (fsync), then renamed
over ``path``, so a reader never sees half a file and an interrupted run leaves the old file intact.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path

import keras
import numpy as np

FORMAT_VERSION = 1
RESERVED_KEYS = ("__format__", "__measure__", "__options__", "__metadata__", "__paths__")


def _paths(model: keras.Model) -> list[str]:
    """The paths of the model's trainable weights, in order; an error when two are the same."""
    paths = [variable.path for variable in model.trainable_weights]
    repeated = sorted(path for path, count in Counter(paths).items() if count > 1)
    if repeated:
        raise ValueError(f"Model {model.name!r} has trainable weights that share the paths {repeated}, so their "
                         "importances cannot be told apart in a file. Give its layers (and their weights) unique "
                         "names.")
    reserved = sorted(set(paths) & set(RESERVED_KEYS))
    if reserved:
        raise ValueError(f"Model {model.name!r} has trainable weights with the reserved paths {reserved}; rename "
                         "their layers.")
    return paths


def _json(value, what: str) -> str:
    def plain(item):  # NumPy scalars and arrays, as recorded from a run
        if isinstance(item, (np.generic, np.ndarray)):
            return item.tolist()
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    try:
        return json.dumps(value, sort_keys=True, default=plain)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The {what} must be plain JSON values (numbers, strings, lists, dicts): {error}.") from None


def save_importances(path, model: keras.Model, importances, *, measure: str, options: dict | None = None,
                     **metadata) -> Path:
    """Write ``importances`` (one array per ``model.trainable_weights`` entry, as ``compute`` returns them) to
    ``path``, keyed by the variables' paths, with the measure's name, its options and ``metadata``. Returns the
    path written."""
    if not isinstance(measure, str) or not measure:
        raise ValueError(f"measure must be the measure's name (a non-empty string); got {measure!r}.")
    if options is not None and not isinstance(options, dict):
        raise ValueError(f"options must be a dict of the measure's options or None; got {type(options).__name__}.")
    paths = _paths(model)
    arrays = [np.asarray(a, dtype=np.float64) for a in importances]
    if len(arrays) != len(paths):
        raise ValueError(f"Got {len(arrays)} importance arrays for the {len(paths)} trainable weights of model "
                         f"{model.name!r}: pass one per model.trainable_weights entry.")
    for array, variable in zip(arrays, model.trainable_weights):
        if array.shape != tuple(variable.shape):
            raise ValueError(f"The importances of {variable.path} have shape {array.shape}, the weight "
                             f"{tuple(variable.shape)}.")
    contents = dict(zip(paths, arrays))
    contents.update({
        "__format__": np.array(FORMAT_VERSION),
        "__measure__": np.array(measure),
        "__options__": np.array(_json(options or {}, "options")),
        "__metadata__": np.array(_json(metadata, "metadata")),
        "__paths__": np.array(_json(paths, "paths")),
    })
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.savez_compressed(file, **contents)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _read(path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as file:
        if "__paths__" not in file.files:
            raise ValueError(f"{path} is not a file written by WeightImportance.save_importances.")
        arrays = {key: file[key] for key in file.files}
    info = {
        "measure": str(arrays["__measure__"]),
        "options": json.loads(str(arrays["__options__"])),
        "metadata": json.loads(str(arrays["__metadata__"])),
        "paths": json.loads(str(arrays["__paths__"])),
    }
    return info, {key: value for key, value in arrays.items() if key not in RESERVED_KEYS}


def read_importances_info(path) -> dict:
    """What a file records besides the arrays: ``measure``, ``options``, ``metadata`` and the weights' ``paths``."""
    return _read(path)[0]


def load_importances(path, model: keras.Model) -> list[np.ndarray]:
    """The importances saved in ``path``, one float64 array per ``model.trainable_weights`` entry in that order;
    an error naming the paths that are missing, extra or of another shape when the model does not match.

    Arrays are matched by exact variable path. Where the paths differ, but only in Keras' automatic numbering of
    automatic layer names (``conv2d_3`` for ``conv2d`` on a ``Conv2D`` layer; see the module docstring), and the
    tensors match in order, kind (``kernel``, ``bias``, ...) and shape, they are matched in order."""
    info, arrays = _read(path)
    paths = _paths(model)
    missing = [p for p in paths if p not in arrays]
    extra = [p for p in info["paths"] if p not in set(paths)]
    mismatched = [f"{v.path}: file {arrays[v.path].shape}, model {tuple(v.shape)}" for v in model.trainable_weights
                  if v.path in arrays and arrays[v.path].shape != tuple(v.shape)]
    if not (missing or extra or mismatched):
        return [arrays[p].astype(np.float64) for p in paths]
    if _renumbered(info["paths"], arrays, model):
        # Another build of the same architecture: Keras numbered its automatic layer names on, so the paths
        # differ only in those numbers; the tensors match one to one in order, kind and shape.
        return [arrays[p].astype(np.float64) for p in info["paths"]]
    problems = [f"{label} {items}" for label, items in (("missing from the file:", missing),
                                                        ("in the file but not in the model:", extra),
                                                        ("shapes differ:", mismatched)) if items]
    raise ValueError(f"The importances in {path} ({info['measure']}) do not match the trainable weights of "
                     f"model {model.name!r}; " + "; ".join(problems) + ". They are matched by variable path "
                     "(layer names; Keras numbers automatic names per process, see WeightImportance.saved).")


def _renumbered(saved_paths: list[str], arrays: dict, model: keras.Model) -> bool:
    """Whether the saved tensors match ``model.trainable_weights`` in order, in kind and shape, with paths that
    differ only in Keras' automatic numbering of automatic layer names."""
    weights = model.trainable_weights
    if len(saved_paths) != len(weights):
        return False
    prefixes = _automatic_prefixes(model)
    for saved, weight in zip(saved_paths, weights):
        saved_parts, model_parts = saved.split("/"), weight.path.split("/")
        if arrays[saved].shape != tuple(weight.shape) or len(saved_parts) != len(model_parts):
            return False
        for saved_part, model_part in zip(saved_parts, model_parts):
            if saved_part != model_part and not any(
                    _is_automatic(saved_part, prefix) and _is_automatic(model_part, prefix)
                    for prefix in prefixes.get(model_part, ())):
                return False
    return True


def _automatic_prefixes(model: keras.Model) -> dict[str, set[str]]:
    """Layer (and model) name -> the names Keras gives that layer's class automatically (``Conv2D`` ->
    ``conv2d``), for every layer of ``model``, nested ones included."""
    # Keras' own traversal of nested layers; models without it (never in Keras 3) fall back to ``.layers``.
    if hasattr(model, "_flatten_layers"):
        layers = list(model._flatten_layers(include_self=True))
    else:
        layers, stack = [], [model]
        while stack:
            layer = stack.pop()
            layers.append(layer)
            stack.extend(getattr(layer, "layers", []))
    prefixes: dict[str, set[str]] = {}
    for layer in layers:
        prefixes.setdefault(layer.name, set()).add(_snake_case(type(layer).__name__))
    return prefixes


def _is_automatic(name: str, prefix: str) -> bool:
    """Whether ``name`` is an automatic Keras name for ``prefix``: the prefix alone, or followed by ``_<n>``."""
    return re.fullmatch(rf"{re.escape(prefix)}(_\d+)?", name) is not None


def _snake_case(name: str) -> str:
    """A class name as Keras turns it into an automatic layer name (``keras.src.utils.naming.to_snake_case``,
    which Keras does not export): ``BatchNormalization`` -> ``batch_normalization``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
