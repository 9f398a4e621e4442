"""Importances kept for later: one compressed ``.npz`` file per computed set of importances.

    WeightImportance.save_importances(path, model, importances, measure="fisher", options={"labels": "data"},
                                      task="digits", trial=0, epoch=5)
    importances = WeightImportance.load_importances(path, model)     # model.trainable_weights order
    WeightImportance.read_importances_info(path)   # {"format", "measure", "options", "metadata", "paths", "model"}

The file (``np.savez_compressed``) holds one float64 array per trainable weight, keyed by the variable's Keras 3
``path`` (e.g. ``"digits/dense/kernel"``), never by position or ``tf.Variable.name``, so a file is read back only
into a model whose trainable weights have the same paths and shapes; anything else is refused with the paths
that differ. Beside the arrays: the measure's name, its options and free metadata (trial, epoch, task, ...), as
JSON text, under keys that start with ``__`` (``RESERVED_KEYS``). No pickles: loading never runs code.

Since format 2 a file also describes the model, so that the arrays can be read without it (the importance atlas
of ``Analysis`` reads them with NumPy alone): ``__model__`` is JSON ``{"input_shape": [8, 8, 1] or null,
"tensors": [{"layer", "class", "keras_class", "kind", "layer_index"}, ...] (one per path, in order),
"first_kernel": path or null}``: each tensor's owning layer (its name, its class, the Keras class it is or derives
from, and its number in order of first appearance among the trainable weights, as ``Aggregation`` numbers
layers), the tensor's kind (``kernel``, ``bias``, ``gamma``, ...: the last part of its path), and the model's input
shape without the batch axis. When the first trainable layer is a convolution (its kernel has three or more
axes), ``__first_kernel__`` holds that kernel's values as float32 and ``first_kernel`` names it; a Dense first
layer needs only its importances. Files of format 1 have neither and are still read (``model`` is None).

Paths come from layer names. Arrays are matched by exact path first. Keras numbers automatic names per process
(a layer of class ``Conv2D`` is named ``conv2d``, ``conv2d_1``, ...: ``<class name in snake case>_<n>``), so a
second model of the same architecture built in the same process has other paths. Only when the paths do not
match exactly, and the model's and the file's paths differ only in such automatic numbers, the tensors are
matched in order (same number of tensors, same kind and shape in the same order), or, where the order differs,
one to one by their paths up to those numbers. A number counts as automatic
only on the name of a layer (or model) whose name is its class's snake-case name, alone or followed by
``_<n>``: ``dense_3`` on a ``Dense`` layer matches ``dense`` or ``dense_7``; a name the user chose, such as
``block_1`` on a ``Dense`` layer, matches only itself (``block_2`` is another layer). A user who names a
``Dense`` layer ``dense_5`` by hand chose a name Keras could have chosen, which cannot be told apart.

The file is written and read by ``Schema.arrays``, the project's one writer of arrays (this package's only
import from the project): atomically, to a temporary file in the same folder, flushed to disk (fsync), renamed
over ``path`` and the folder flushed, so a reader never sees half a file and an interrupted run leaves the old
file intact; the temporary file of a killed write is removed by the next write of the same file. The matching by
path, and the rule for automatic numbers, are ``Schema.arrays.match_arrays``'s.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import keras
import numpy as np

from Schema.arrays import automatic_names, load_arrays, match_arrays, save_arrays

FORMAT_VERSION = 2
RESERVED_KEYS = ("__format__", "__measure__", "__options__", "__metadata__", "__paths__", "__model__",
                 "__first_kernel__")


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
    description, first_kernel = _describe(model, paths)
    contents.update({
        "__format__": np.array(FORMAT_VERSION),
        "__measure__": np.array(measure),
        "__options__": np.array(_json(options or {}, "options")),
        "__metadata__": np.array(_json(metadata, "metadata")),
        "__paths__": np.array(_json(paths, "paths")),
        "__model__": np.array(_json(description, "model description")),
    })
    if first_kernel is not None:
        contents["__first_kernel__"] = first_kernel
    return save_arrays(path, contents, compressed=True)


def _describe(model: keras.Model, paths: list[str]) -> tuple[dict, np.ndarray | None]:
    """The ``__model__`` description (module docstring) and the first trainable layer's kernel if it is a
    convolution's (three or more axes), else None."""
    owners = _owning_layers(model)
    numbers: dict[int, int] = {}
    tensors = []
    for path, owner in zip(paths, owners):
        keras_class = next((c.__name__ for c in type(owner).__mro__ if c.__module__.startswith("keras")),
                           type(owner).__name__)
        tensors.append({"layer": owner.name, "class": type(owner).__name__, "keras_class": keras_class,
                        "kind": path.rsplit("/", 1)[-1], "layer_index": numbers.setdefault(id(owner), len(numbers))})
    first = next((i for i, (owner, tensor) in enumerate(zip(owners, tensors))
                  if owner is owners[0] and tensor["kind"] == "kernel"), None) if owners else None
    kernel = None
    if first is not None and len(model.trainable_weights[first].shape) >= 3:
        kernel = np.asarray(keras.ops.convert_to_numpy(model.trainable_weights[first]), dtype=np.float32)
    return {"input_shape": _input_shape(model), "tensors": tensors,
            "first_kernel": paths[first] if kernel is not None else None}, kernel


def _input_shape(model: keras.Model) -> list[int] | None:
    """The model's single input shape without the batch axis; None for several inputs or an unknown shape."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError, TypeError):
        return None
    if not isinstance(shape, tuple) or not shape or any(isinstance(s, (tuple, list)) for s in shape):
        return None
    return [None if s is None else int(s) for s in shape[1:]]


def _owning_layers(model: keras.Model) -> list:
    """The innermost layer owning each trainable weight, matched by identity: layers are visited sublayers first,
    and the first layer listing a weight owns it (the rule of ``Aggregation.structure``, which this package does
    not import; variables the model creates itself belong to the model)."""
    ordered, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        children = layer.layers if isinstance(layer, keras.Model) else (
            layer._flatten_layers(include_self=False, recursive=False) if hasattr(layer, "_flatten_layers") else [])
        for child in children:
            visit(child)
        ordered.append(layer)

    visit(model)
    owner_of: dict[int, object] = {}
    for layer in ordered:
        for variable in layer.trainable_weights:
            owner_of.setdefault(id(variable), layer)
    return [owner_of.get(id(variable), model) for variable in model.trainable_weights]


def _read(path) -> tuple[dict, dict[str, np.ndarray]]:
    arrays = load_arrays(path)
    if "__paths__" not in arrays:
        raise ValueError(f"{path} is not a file written by WeightImportance.save_importances.")
    info = {
        "format": int(arrays["__format__"]) if "__format__" in arrays else 1,
        "measure": str(arrays["__measure__"]),
        "options": json.loads(str(arrays["__options__"])),
        "metadata": json.loads(str(arrays["__metadata__"])),
        "paths": json.loads(str(arrays["__paths__"])),
        "model": json.loads(str(arrays["__model__"])) if "__model__" in arrays else None,
    }
    return info, {key: value for key, value in arrays.items() if key not in RESERVED_KEYS}


def read_importances_info(path) -> dict:
    """What a file records besides the importance arrays: its ``format``, ``measure``, ``options``, ``metadata``,
    the weights' ``paths`` and the ``model`` description (None for files of format 1; module docstring)."""
    return _read(path)[0]


def load_importances(path, model: keras.Model) -> list[np.ndarray]:
    """The importances saved in ``path``, one float64 array per ``model.trainable_weights`` entry in that order;
    an error naming the paths that are missing, extra or of another shape when the model does not match.

    Arrays are matched by exact variable path. Where the paths differ, but only in Keras' automatic numbering of
    automatic layer names (``conv2d_3`` for ``conv2d`` on a ``Conv2D`` layer; see the module docstring), they are
    matched in order when the tensors match in order, by path and shape; else one to one by their paths up to
    those numbers (``Schema.arrays.match_arrays``)."""
    info, arrays = _read(path)
    _paths(model)
    saved = {p: arrays[p] for p in info["paths"] if p in arrays}  # the file's order
    layers = model._flatten_layers(include_self=True)  # Keras' own traversal of nested layers
    automatic = automatic_names((layer.name, type(layer).__name__) for layer in layers)
    try:
        found = match_arrays(saved, [(v.path, tuple(v.shape)) for v in model.trainable_weights], automatic,
                             what=f"The importances in {path} ({info['measure']}) do not match the trainable "
                                  f"weights of model {model.name!r}")
    except ValueError as error:
        raise ValueError(f"{error} They are matched by variable path (layer names; Keras numbers automatic names "
                         "per process, see WeightImportance.saved).") from None
    return [np.asarray(a, dtype=np.float64) for a in found]
