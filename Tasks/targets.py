"""What a classification task's targets and model output look like, and the checks that they fit each other.

Three kinds of classification model, told apart by the width of the model's output and the loss:

- **K outputs** (``num_classes`` = K logits, or probabilities with ``from_logits=False``), targets either
  - class ids in [0, K), shape ``(N,)``, ``int64``: ``SparseCategoricalCrossentropy`` (the built-in tasks), or
  - rows of K class probabilities, shape ``(N, K)``, ``float32``, each in [0, 1] summing to 1 (one-hot or soft
    labels): ``CategoricalCrossentropy``;
- **1 output** (binary: ``num_classes`` = 2), one logit z (``from_logits=True``) or probability p of class 1, with
  class ids 0/1 of shape ``(N,)``: ``BinaryCrossentropy``.

The predicted class is the argmax of the K outputs, or 1 where z > 0 (p > 0.5) for one output; the true class of
a row of probabilities is its argmax. ``Runs.evaluation`` counts correct predictions by these rules, and
``accuracy_metric`` gives Keras' metric that agrees with them (``fit`` and ``evaluate`` logs).

Any other loss (a focal loss, your own) is taken as it comes: its targets are class ids when ``y`` is one id per
example and rows when ``y`` has ``num_classes`` columns, and a 1-output model needs a loss whose configuration says
``from_logits``.
"""

from __future__ import annotations

import keras
import numpy as np

BINARY_LOSSES = (keras.losses.BinaryCrossentropy, keras.losses.BinaryFocalCrossentropy)
ROW_LOSSES = (keras.losses.CategoricalCrossentropy, keras.losses.CategoricalFocalCrossentropy)
ID_LOSSES = (keras.losses.SparseCategoricalCrossentropy,)
ROW_SUM_TOLERANCE = 1e-3
VALID_COMBINATIONS = ("a classification model outputs num_classes logits (SparseCategoricalCrossentropy with class "
                      "ids, CategoricalCrossentropy with rows of class probabilities), or 1 for binary with "
                      "BinaryCrossentropy (num_classes=2, class ids 0/1)")


def loss_name(loss: keras.losses.Loss) -> str:
    return type(loss).__name__


def from_logits(loss: keras.losses.Loss) -> bool | None:
    """The loss's ``from_logits`` setting; None for a loss that has none."""
    value = loss.get_config().get("from_logits")
    return None if value is None else bool(value)


def check_targets(split_name: str, y: np.ndarray, num_classes: int, loss: keras.losses.Loss) -> np.ndarray:
    """``y`` as ``int64`` class ids ``(N,)`` or ``float32`` rows ``(N, num_classes)`` (see the module docstring);
    a ``ValueError`` that says what was found and what ``loss`` expects."""
    rows = y.ndim == 2 and y.shape[1] > 1
    name = loss_name(loss)
    if isinstance(loss, ROW_LOSSES) and not rows:
        raise ValueError(
            f"{split_name} y holds class ids (shape {y.shape}) but {name} expects one row of num_classes="
            f"{num_classes} class probabilities per example (one-hot or soft labels). Pass "
            f"keras.utils.to_categorical(y, {num_classes}), or use SparseCategoricalCrossentropy for class ids."
        )
    if rows and isinstance(loss, (*ID_LOSSES, *BINARY_LOSSES)):
        expects = "class ids 0/1" if isinstance(loss, BINARY_LOSSES) else "integer class ids"
        raise ValueError(
            f"{split_name} y holds rows of shape {y.shape} but {name} expects {expects}, one per example. For rows "
            "of class probabilities use CategoricalCrossentropy with a model of num_classes outputs."
        )
    if rows:
        return _check_rows(split_name, y, num_classes)
    return _check_ids(split_name, y, num_classes, name)


def _check_ids(split_name: str, y: np.ndarray, num_classes: int, name: str) -> np.ndarray:
    if y.ndim > 1 and y.shape[1:] != (1,) * (y.ndim - 1):
        raise ValueError(f"{split_name} y must hold one class id per example, shape (N,); got shape {y.shape}.")
    y = y.reshape(-1)
    if not np.issubdtype(y.dtype, np.integer) and not np.array_equal(y, np.round(y)):
        raise ValueError(
            f"{split_name} y must hold integer class ids for classification with {name}; got dtype {y.dtype} with "
            f"values such as {np.unique(y[y != np.round(y)])[:5].tolist()}."
        )
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= num_classes:
        raise ValueError(
            f"{split_name} y has class ids in [{y.min()}, {y.max()}]; with num_classes={num_classes} they must "
            f"lie in [0, {num_classes - 1}]."
        )
    return y


def _check_rows(split_name: str, y: np.ndarray, num_classes: int) -> np.ndarray:
    if y.shape[1] != num_classes:
        raise ValueError(f"{split_name} y has rows of {y.shape[1]} class probabilities; with num_classes="
                         f"{num_classes} each row must have {num_classes}.")
    y = y.astype(np.float32)
    sums = y.sum(axis=1)
    if not np.all(np.isfinite(y)) or np.any((y < 0) | (y > 1)) or np.any(np.abs(sums - 1) > ROW_SUM_TOLERANCE):
        bad = int(np.flatnonzero(~np.isfinite(sums) | np.any((y < 0) | (y > 1), axis=1)
                                 | (np.abs(sums - 1) > ROW_SUM_TOLERANCE))[0])
        raise ValueError(
            f"{split_name} y must hold rows of class probabilities, each in [0, 1] summing to 1; row {bad} is "
            f"{y[bad].tolist()} (sum {float(sums[bad]):g})."
        )
    return y


def check_outputs(model: keras.Model, num_classes: int, loss: keras.losses.Loss, task_name: str,
                  example: np.ndarray) -> int:
    """The width of ``model``'s output, checked against ``num_classes`` and ``loss`` (module docstring); a
    ``ValueError`` that says what the model outputs and what is valid. ``example``: one input, for a model whose
    output shape is not known without calling it."""
    shape = _output_shape(model, example)
    width = shape[-1] if shape else 1
    found = f"The model of task {task_name!r} outputs {width} value{'s' if width != 1 else ''}"
    if len(shape) != 1:
        raise ValueError(f"{found} of shape {shape} per example; a classification model outputs a vector per "
                         f"example: {VALID_COMBINATIONS}.")
    name = loss_name(loss)
    if isinstance(loss, BINARY_LOSSES):
        if width != 1 or num_classes != 2:
            raise ValueError(
                f"{found} with {name} and num_classes={num_classes}: {name} is for a binary model, which outputs 1 "
                f"value (a logit, or a probability with from_logits=False) with num_classes=2; for {width} classes "
                f"use SparseCategoricalCrossentropy(from_logits=True). Valid: {VALID_COMBINATIONS}."
            )
        return width
    if width == 1 and num_classes == 2 and from_logits(loss) is not None and not isinstance(loss, (*ID_LOSSES,
                                                                                                     *ROW_LOSSES)):
        return width  # another binary loss that says whether the output is a logit
    if width != num_classes:
        hint = (f" (a single-output binary model needs BinaryCrossentropy, not {name})"
                if width == 1 and num_classes == 2 else "")
        raise ValueError(f"{found} but num_classes is {num_classes}{hint}: {VALID_COMBINATIONS}.")
    return width


def accuracy_metric(loss: keras.losses.Loss, width: int):
    """Keras' accuracy metric that agrees with ``Runs.evaluation`` for this loss and output width: class 1 where
    z > 0 (p > 0.5) for one output, ``"accuracy"`` (argmax) for K outputs."""
    if width == 1:
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0 if from_logits(loss) else 0.5)
    return "accuracy"


def _output_shape(model: keras.Model, example: np.ndarray) -> tuple[int, ...]:
    """The per-example output shape: from the symbolic output, else from one forward pass on ``example``."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs and len(outputs) > 1:
        raise ValueError(f"Model {model.name!r} has {len(outputs)} outputs; a task's model has one.")
    if outputs and all(d is not None for d in outputs[0].shape[1:]):
        return tuple(int(d) for d in outputs[0].shape[1:])
    return tuple(int(d) for d in model(example[:1], training=False).shape[1:])
