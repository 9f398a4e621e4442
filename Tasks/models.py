"""The models of the tasks: small CNNs for images, MLPs for vectors. All output logits (or raw values for
regression), never probabilities.

``build_named_model(spec, input_shape, num_classes)`` builds a model by name, the ``model`` option of the tasks:
``MODEL_CHOICES`` lists the specs (``"cnn"`` is each task's default CNN, ``"mlp:256,256"`` an MLP of those widths,
``"original_cnn"`` the original toolkit's final-experiment CNN). ``augmentation`` puts the task option's random
preprocessing layers (``augmentation.py``) right after the input; ``with_named_model`` gives a task another model.

BatchNormalization uses ``momentum=0.9``: with Keras' default 0.99 the moving statistics barely leave their
initial values in the few hundred steps these tasks train for, and a model evaluated with them (``training=False``)
scores far below what it learned (digits: about 60 % instead of over 95 % after 5 epochs).
"""

from __future__ import annotations

import re

import keras

from Tasks import augmentation as augmentations
from Tasks.base import Task, make_task

BATCH_NORM_MOMENTUM = 0.9
ORIGINAL_DROPOUT = 0.2


def _conv_block(filters: int, padding: str = "same") -> list[keras.layers.Layer]:
    return [
        keras.layers.Conv2D(filters, 3, padding=padding),
        keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM),
        keras.layers.Activation("relu"),
    ]


def small_cnn(input_shape: tuple[int, ...], num_classes: int, name: str = "small_cnn") -> keras.Model:
    """conv16-BN-relu-pool, conv32-BN-relu-pool, flatten, dropout 0.25, dense64-relu, dense(num_classes)."""
    return keras.Sequential([keras.Input(shape=input_shape), *_small_cnn_layers(num_classes)], name=name)


def _small_cnn_layers(num_classes: int) -> list[keras.layers.Layer]:
    return [
        *_conv_block(16),
        keras.layers.MaxPooling2D(),
        *_conv_block(32),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(num_classes),
    ]


def four_conv_cnn(input_shape: tuple[int, ...], num_classes: int, name: str = "four_conv_cnn") -> keras.Model:
    """conv32, conv32, pool, conv64, conv64, pool (each 3x3 conv unpadded, with BN and relu), dropout 0.25,
    dense128-BN-relu, dropout 0.5, dense(num_classes). On 28x28 inputs the feature maps are 26, 24, 12, 10, 8 and
    4 pixels wide; unpadded convolutions halve the cost of padded ones."""
    return keras.Sequential([keras.Input(shape=input_shape), *_four_conv_cnn_layers(num_classes)], name=name)


def _four_conv_cnn_layers(num_classes: int) -> list[keras.layers.Layer]:
    return [
        *_conv_block(32, padding="valid"),
        *_conv_block(32, padding="valid"),
        keras.layers.MaxPooling2D(),
        *_conv_block(64, padding="valid"),
        *_conv_block(64, padding="valid"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(128),
        keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM),
        keras.layers.Activation("relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(num_classes),
    ]


def original_cnn(input_shape: tuple[int, ...], num_classes: int, name: str = "original_cnn") -> keras.Model:
    """The CNN of the original toolkit's final experiment (its ``trial_script.py``, MNIST), layer for layer:
    conv32-relu, conv32-relu, BN, maxpool 2x2, conv64-relu, conv64-relu, BN, maxpool 2x2 (3x3 convolutions,
    unpadded, ReLU inside the convolution), flatten, dense64-relu, dropout 0.2, dense64-relu, dropout 0.2,
    dense(num_classes) logits. BatchNormalization with Keras' defaults (momentum 0.99, epsilon 1e-3) as there, not
    the toolkit's momentum 0.9: over its 1875 steps an epoch the moving statistics settle either way. On 28x28
    inputs the feature maps are 26, 24, 12, 10, 8 and 4 pixels wide (1024 features into the first dense layer)."""
    return keras.Sequential([keras.Input(shape=input_shape), *_original_cnn_layers(num_classes)], name=name)


def _original_cnn_layers(num_classes: int) -> list[keras.layers.Layer]:
    return [
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(ORIGINAL_DROPOUT),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dropout(ORIGINAL_DROPOUT),
        keras.layers.Dense(num_classes),
    ]


def mlp(
    input_shape: tuple[int, ...],
    num_outputs: int,
    hidden_units: tuple[int, ...] = (32, 32),
    activation: str = "relu",
    name: str = "mlp",
) -> keras.Model:
    """Dense layers of ``hidden_units`` with ``activation``, then a linear Dense(num_outputs)."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            *(keras.layers.Dense(units, activation=activation) for units in hidden_units),
            keras.layers.Dense(num_outputs),
        ],
        name=name,
    )


# -- models by name: the ``model`` option of the tasks -----------------------------------------------------------

MODEL_CHOICES = ("cnn", "small_cnn", "four_conv_cnn", "original_cnn", "mlp", "mlp:<units>,<units>,...")
MLP_HIDDEN_UNITS = (100, 100)
MAX_CONV_INPUT_SIDE = 64
CONV_LAYERS = {"small_cnn": _small_cnn_layers, "four_conv_cnn": _four_conv_cnn_layers,
               "original_cnn": _original_cnn_layers}
# the smallest image side each CNN leaves at least one pixel of after its pooling
CONV_MIN_SIDE = {"small_cnn": 4, "four_conv_cnn": 16, "original_cnn": 16}


def parse_model_spec(spec: str) -> tuple[str, tuple[int, ...]]:
    """``(kind, hidden_units)`` of a model spec: ``"mlp"`` is ``("mlp", MLP_HIDDEN_UNITS)``, ``"mlp:256,256"``
    is ``("mlp", (256, 256))`` and any other valid spec is ``(spec, ())``. Raises ``ValueError`` naming the bad
    spec and the valid forms."""
    if isinstance(spec, str):
        kind, separator, widths = spec.partition(":")
        if kind == "mlp" and not separator:
            return "mlp", MLP_HIDDEN_UNITS
        if kind == "mlp":
            units = [width.strip() for width in widths.split(",")]
            if all(width.isdigit() and int(width) > 0 for width in units):
                return "mlp", tuple(int(width) for width in units)
        elif not separator and spec in ("cnn", *CONV_LAYERS):
            return spec, ()
    raise ValueError(
        f"Unknown model {spec!r}; valid models: 'cnn' (the task's default CNN), 'small_cnn', 'four_conv_cnn', "
        "'original_cnn' (the original toolkit's final-experiment CNN), "
        f"'mlp' (Flatten, Dense({MLP_HIDDEN_UNITS[0]}) relu, Dense({MLP_HIDDEN_UNITS[1]}) relu, logits) or "
        "'mlp:<units>,<units>,...' with positive widths, e.g. 'mlp:256,256'."
    )


def check_model_spec(spec: str, input_shape: tuple[int, ...], cnn: str = "small_cnn",
                     augmentation: dict | None = None) -> None:
    """Raise ``ValueError`` if ``spec`` is not a valid model for inputs of ``input_shape`` (without building it):
    convolutional models need ``(height, width, channels)`` images with at least ``CONV_MIN_SIDE`` pixels a side
    (after any downsampling); ``augmentation`` (the task option, ``augmentation.py``) needs images too."""
    if cnn not in CONV_LAYERS:
        raise ValueError(f"cnn must name the task's default CNN, one of {list(CONV_LAYERS)}; got {cnn!r}.")
    augmentations.check_augmentation(augmentation)
    if augmentation and len(input_shape) != 3:
        raise ValueError(f"augmentation transforms images, (height, width, channels); the inputs are shaped "
                         f"{tuple(input_shape)}.")
    kind, _ = parse_model_spec(spec)
    kind = cnn if kind == "cnn" else kind
    if kind == "mlp":
        return
    if len(input_shape) != 3:
        raise ValueError(
            f"The model {spec!r} is convolutional and needs (height, width, channels) images; the inputs are "
            f"shaped {tuple(input_shape)}. Use 'mlp' or 'mlp:<units>,...' instead."
        )
    factor = _downsampling(input_shape)
    if min(input_shape[:2]) // factor < CONV_MIN_SIDE[kind]:
        averaged = f" (averaged down by {factor} from {tuple(input_shape[:2])})" if factor > 1 else ""
        raise ValueError(
            f"The model {spec!r} ({kind}) needs images at least {CONV_MIN_SIDE[kind]} pixels a side; these are "
            f"{tuple(d // factor for d in input_shape[:2])}{averaged}. Use "
            f"{'small_cnn or ' if kind == 'four_conv_cnn' else ''}an MLP ('mlp') instead, or larger images."
        )


def build_named_model(
    spec: str, input_shape: tuple[int, ...], num_classes: int, *, cnn: str = "small_cnn", name: str | None = None,
    augmentation: dict | None = None, seed: int = 0,
) -> keras.Model:
    """The model ``spec`` (one of ``MODEL_CHOICES``) for inputs of ``input_shape`` with ``num_classes`` logits.

    - ``"cnn"``: the task's default CNN, ``cnn`` (``"small_cnn"`` or ``"four_conv_cnn"``).
    - ``"small_cnn"``, ``"four_conv_cnn"``, ``"original_cnn"``: the CNNs above. Images wider or taller than
      ``MAX_CONV_INPUT_SIDE`` pixels are first averaged down by an integer factor (``AveragePooling2D``, no
      weights) to at most that size.
    - ``"mlp"``: Flatten, Dense(100) relu, Dense(100) relu, Dense(num_classes): the sequential-learning study's
      MLP (the classic permuted-MNIST network). ``"mlp:256,256"``: the same with those hidden widths. Flatten is
      left out for inputs that are already vectors (it has no weights, so the model computes the same).

    ``name`` names the model (default: the spec's kind). The learning rate is the task's, not the model's.
    ``augmentation``: the task option (``augmentation.py``), its layers right after the input, seeded from
    ``seed`` (the model's seed).
    """
    check_model_spec(spec, input_shape, cnn, augmentation)
    kind, hidden_units = parse_model_spec(spec)
    kind = cnn if kind == "cnn" else kind
    name = name or kind
    front = [keras.Input(shape=input_shape), *augmentations.augmentation_layers(augmentation, seed)]
    if kind == "mlp":
        flatten = [keras.layers.Flatten()] if len(input_shape) > 1 else []
        return keras.Sequential(
            [
                *front,
                *flatten,
                *(keras.layers.Dense(units, activation="relu") for units in hidden_units),
                keras.layers.Dense(num_classes),
            ],
            name=name,
        )
    factor = _downsampling(input_shape)
    downsampling = [keras.layers.AveragePooling2D(pool_size=factor)] if factor > 1 else []
    return keras.Sequential([*front, *downsampling, *CONV_LAYERS[kind](num_classes)], name=name)


def with_named_model(task: Task, spec: str) -> Task:
    """``task`` with the model ``spec`` (``MODEL_CHOICES``) in place of its own: the same data, loss, batch size,
    seed, learning rate, class names and augmentation, and the same output width (1 for a binary task)."""
    if not task.is_classification:
        raise ValueError(f"The {spec!r} model is for classification tasks; {task.name!r} is a regression task.")
    input_shape = tuple(task.train[0].shape[1:])
    check_model_spec(spec, input_shape, augmentation=task.augmentation)
    width = task.num_outputs
    kind = parse_model_spec(spec)[0]

    def build(seed: int) -> keras.Model:
        return build_named_model(spec, input_shape, width, name=re.sub(r"\W", "_", f"{task.name}_{kind}"),
                                 augmentation=task.augmentation, seed=seed)

    return make_task(task.name, task.train, task.validation, build, task.loss, task.num_classes, task.batch_size,
                     task.seed, task.learning_rate, class_names=task.class_names, augmentation=task.augmentation)


def _downsampling(input_shape: tuple[int, ...]) -> int:
    """The integer factor that brings the larger image side down to at most ``MAX_CONV_INPUT_SIDE`` pixels."""
    return max(1, -(-max(input_shape[:2]) // MAX_CONV_INPUT_SIDE))
