"""Training augmentation of the image tasks: Keras' random preprocessing layers at the front of the model.

The task option ``augmentation`` is a plain JSON value, recorded with the task's other options::

    get_task("fashion_mnist", augmentation={"zoom": 0.1, "rotation": 0.05})
    get_task("mnist", augmentation={"zoom": {"height_factor": [-0.25, -0.05], "width_factor": [-0.25, -0.05]},
                                    "rotation": {"factor": 0.05, "fill_mode": "constant"}})

Each key names one Keras layer (``AUGMENTATIONS``); its value is the layer's main argument (a number, or a
``[lower, upper]`` pair as Keras takes them; a mode string for ``flip``) or a dict of the layer's own keyword
arguments. The layers are applied in the fixed order of ``AUGMENTATIONS`` whatever the order of the keys (a saved
configuration's keys are sorted), right after the model's input.

Why layers in the model: Keras' random preprocessing layers transform their input only when called with
``training=True`` (``fit``) and pass it through unchanged otherwise, so the evaluation at every threshold and every
importance measure (which call the model in inference mode) see the images as they are. The layers hold no
trainable weights (the measures, masks and EWC penalties see the same weights as without them); each holds the
state of its seed generator, a variable of the model, so checkpoints capture it and a resumed run draws the same
transformations as one that never stopped. Each layer's seed is drawn from the model's seed and the layer's
position, so the same task seed gives the same augmented training run.
"""

from __future__ import annotations

import inspect
import json

import keras
import numpy as np

# option key -> (Keras layer, the keyword arguments a plain value stands for)
AUGMENTATIONS = {
    "flip": (keras.layers.RandomFlip, ("mode",)),
    "zoom": (keras.layers.RandomZoom, ("height_factor",)),
    "rotation": (keras.layers.RandomRotation, ("factor",)),
    "translation": (keras.layers.RandomTranslation, ("height_factor", "width_factor")),
    "contrast": (keras.layers.RandomContrast, ("factor",)),
}
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
RESERVED_ARGUMENTS = ("seed", "name", "data_format", "dtype", "trainable", "value_range")
EXAMPLE = '{"zoom": 0.1, "rotation": 0.05}'


def check_augmentation(augmentation) -> dict | None:
    """``augmentation`` if it is None or a valid option value (module docstring); else a ``ValueError`` naming what
    is wrong and what is valid. The layers are built and called once on a blank image to check their arguments."""
    if augmentation is None:
        return None
    if not isinstance(augmentation, dict) or not all(isinstance(key, str) for key in augmentation):
        raise ValueError(f"augmentation must be None or a dict from augmentation name to its setting, e.g. {EXAMPLE}; "
                         f"got {augmentation!r}. Names: {list(AUGMENTATIONS)}.")
    unknown = sorted(set(augmentation) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"Unknown augmentation(s) {unknown}; valid: {list(AUGMENTATIONS)} (e.g. {EXAMPLE}).")
    try:
        json.dumps(augmentation)
    except (TypeError, ValueError) as error:
        raise ValueError(f"augmentation must be a plain JSON value (numbers, strings, lists, dicts), as it is "
                         f"recorded with the configuration; got {augmentation!r} ({error}).") from error
    for layer in augmentation_layers(augmentation, seed=0):
        try:  # some settings (a flip mode) are only read when the layer is called
            layer(np.zeros((1, 8, 8, 1), np.float32), training=True)
        except (TypeError, ValueError) as error:
            raise ValueError(f"augmentation {layer.name.removeprefix('augmentation_')!r} is not valid for "
                             f"keras.layers.{type(layer).__name__}: {error}") from error
    return augmentation


def augmentation_layers(augmentation: dict | None, seed: int) -> list[keras.layers.Layer]:
    """The Keras layers of ``augmentation`` in ``AUGMENTATIONS`` order, seeded from ``seed``; [] for None."""
    layers = []
    for index, key in enumerate(AUGMENTATIONS):
        if augmentation is None or key not in augmentation:
            continue
        layer_class, _ = AUGMENTATIONS[key]
        arguments = _arguments(key, augmentation[key])
        if key == "flip":
            _check_flip(arguments)
        layer_seed = int(np.random.SeedSequence([int(seed), index]).generate_state(1)[0] >> 1)
        if "value_range" in inspect.signature(layer_class).parameters:
            arguments["value_range"] = (0.0, 1.0)  # the tasks' images are scaled to [0, 1]
        try:
            layers.append(layer_class(**arguments, seed=layer_seed, name=f"augmentation_{key}"))
        except (TypeError, ValueError) as error:
            valid = [name for name in inspect.signature(layer_class).parameters
                     if name not in (*RESERVED_ARGUMENTS, "kwargs")]
            raise ValueError(f"augmentation {key!r}={augmentation[key]!r} is not valid for "
                             f"keras.layers.{layer_class.__name__} ({error}); its arguments: {valid}.") from error
    return layers


def _arguments(key: str, value) -> dict:
    """The keyword arguments of the layer of ``key`` that ``value`` stands for."""
    layer_class, main = AUGMENTATIONS[key]
    if isinstance(value, dict):
        reserved = sorted(set(value) & set(RESERVED_ARGUMENTS))
        if reserved:
            raise ValueError(f"augmentation {key!r} sets {reserved}, which the task chooses itself (the seed comes "
                             "from the model's seed); leave them out.")
        return {name: _as_tuple(setting) for name, setting in value.items()}
    if isinstance(value, bool) or value is None:
        raise ValueError(f"augmentation {key!r} needs a setting for keras.layers.{layer_class.__name__}'s "
                         f"{main[0]!r} (or a dict of its arguments); got {value!r}.")
    return {name: _as_tuple(value) for name in main}


def _check_flip(arguments: dict) -> dict:
    """Keras' RandomFlip takes any mode and then flips nothing for an unknown one: refuse it here."""
    if arguments.get("mode", FLIP_MODES[-1]) not in FLIP_MODES:
        raise ValueError(f"augmentation 'flip' mode must be one of {list(FLIP_MODES)}; got {arguments['mode']!r}.")
    return arguments


def _as_tuple(value):
    return tuple(value) if isinstance(value, list) else value
