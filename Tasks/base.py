"""The contract every task meets: data, loss and a seeded builder of fresh compiled models.

A task is used the same way whatever it is::

    task = Tasks.get_task("digits", seed=3)
    task.model.fit(*task.train, batch_size=task.batch_size, validation_data=task.validation)
    another = task.build_model(seed=4)          # fresh, compiled, different initial weights

``x`` arrays are ``float32``. For classification (``num_classes`` set) ``y`` holds ``int64`` class ids, or
``float32`` rows of class probabilities for ``CategoricalCrossentropy``, and the model outputs ``num_classes``
logits, or 1 for a binary task with ``BinaryCrossentropy`` (``targets.py`` says which combinations are valid;
every model built is checked against them). For regression (``num_classes`` None) ``y`` holds ``float32`` targets.

Models are built deterministically: ``keras.utils.set_random_seed(seed)`` is called right before the builder, so
the same seed gives the same initial weights (and dropout and augmentation seeds). This also reseeds Python's
``random``, NumPy's global generator and TensorFlow's global seed, as any seeded Keras run does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np

from Tasks import targets

DEFAULT_LEARNING_RATE = 1e-3


def classification_loss() -> keras.losses.Loss:
    """The loss of every classification task: cross-entropy of integer class ids against logits."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def regression_loss() -> keras.losses.Loss:
    """The loss of every regression task."""
    return keras.losses.MeanSquaredError()


@dataclass(repr=False)
class Task:
    """A dataset split into train and validation, its loss, and a builder of fresh compiled models.

    ``model_builder(seed)`` returns a ``keras.Model``; one it leaves uncompiled is compiled with
    ``Adam(learning_rate)``, ``loss`` and, for classification, an accuracy metric (``targets.accuracy_metric``).
    ``model`` is built from ``seed`` when the task is created; for classification every model built is checked
    against ``num_classes`` and ``loss`` (``targets.check_outputs``), and ``num_outputs`` is its output width.
    ``class_names``: the name of each class id, where the data have them (a ``folder:`` task's sub-folders).
    ``augmentation``: the training augmentation the model builder puts in front of the model (``augmentation.py``),
    as the task option gave it; None for none.
    """

    name: str
    train: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    num_classes: int | None
    loss: keras.losses.Loss
    batch_size: int
    seed: int
    model_builder: Callable[[int], keras.Model] = field(repr=False)
    learning_rate: float = DEFAULT_LEARNING_RATE
    class_names: tuple[str, ...] | None = None
    augmentation: dict | None = None
    model: keras.Model = field(init=False, repr=False)
    num_outputs: int | None = field(init=False, default=None)

    def __post_init__(self):
        self.model = self.build_model()

    def __repr__(self) -> str:
        shapes = ", ".join(
            f"{split}=(x {x.shape} {x.dtype}, y {y.shape} {y.dtype})"
            for split, (x, y) in (("train", self.train), ("validation", self.validation))
        )
        return (
            f"Task(name={self.name!r}, {shapes}, num_classes={self.num_classes}, loss={type(self.loss).__name__}, "
            f"batch_size={self.batch_size}, seed={self.seed}, learning_rate={self.learning_rate:g}"
            f"{'' if self.augmentation is None else f', augmentation={self.augmentation}'})"
        )

    @property
    def is_classification(self) -> bool:
        return self.num_classes is not None

    @property
    def is_binary(self) -> bool:
        """A classification task whose model has one output (``BinaryCrossentropy``)."""
        return self.is_classification and self.num_outputs == 1

    def build_model(self, seed: int | None = None) -> keras.Model:
        """A fresh compiled model; ``seed`` defaults to the task's seed. The same seed gives the same weights."""
        seed = self.seed if seed is None else _check_seed(seed)
        keras.utils.set_random_seed(seed)
        model = self.model_builder(seed)
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"The model builder of task {self.name!r} returned {type(model).__name__}; expected a keras.Model."
            )
        if self.is_classification:
            self.num_outputs = targets.check_outputs(model, self.num_classes, self.loss, self.name, self.train[0])
        if not model.compiled:
            model.compile(
                optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
                loss=self.loss,
                metrics=[targets.accuracy_metric(self.loss, self.num_outputs)] if self.is_classification else [],
            )
        return model


def make_task(
    name: str,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    build_model: Callable[[int], keras.Model],
    loss: keras.losses.Loss,
    num_classes: int | None,
    batch_size: int = 32,
    seed: int = 0,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    *,
    class_names=None,
    augmentation: dict | None = None,
) -> Task:
    """A task from your own arrays and model builder.

    Args:
        name: what the task is called (the results CSV's ``task`` column).
        train, validation: ``(x, y)`` pairs; ``x`` becomes ``float32``. For classification ``y`` becomes
            ``int64`` class ids in ``[0, num_classes)`` (shape ``(N,)``; ``(N, 1)`` is flattened), or, for
            ``CategoricalCrossentropy``, ``float32`` rows ``(N, num_classes)`` of class probabilities (one-hot or
            soft labels); for regression ``float32`` targets.
        build_model: ``build_model(seed) -> keras.Model``; an uncompiled model is compiled with
            ``Adam(learning_rate)``, ``loss`` and an accuracy metric for classification.
            ``keras.utils.set_random_seed(seed)`` is called before it.
        loss: a ``keras.losses.Loss``: ``SparseCategoricalCrossentropy(from_logits=True)`` for class ids and
            ``num_classes`` logits, ``CategoricalCrossentropy(from_logits=True)`` for rows, or
            ``BinaryCrossentropy(from_logits=True)`` (or ``from_logits=False`` for a sigmoid output) for a binary
            model with one output; ``MeanSquaredError()`` for regression.
        num_classes: the number of classes (the model's output width, or 2 for a one-output binary model); None
            for regression. The model is checked against it and ``loss`` (``Tasks/targets.py``).
        batch_size: the batch size the task is meant to be trained with.
        seed: seed of ``task.model``.
        class_names: the name of each class id, in id order (recorded as ``task.class_names``).
        augmentation: the training augmentation ``build_model`` applies, as recorded (``task.augmentation``);
            ``make_task`` does not add it: build it into the model (``Tasks.augmentation_layers``).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}.")
    if num_classes is not None and (
        isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1
    ):
        raise ValueError(f"num_classes must be a positive integer, or None for regression; got {num_classes!r}.")
    if not isinstance(loss, keras.losses.Loss):
        raise TypeError(
            f"loss must be a keras.losses.Loss instance, e.g. keras.losses.SparseCategoricalCrossentropy("
            f"from_logits=True) or keras.losses.MeanSquaredError(); got {loss!r}."
        )
    if not callable(build_model):
        raise TypeError(f"build_model must be a callable build_model(seed) -> keras.Model; got {build_model!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    num_classes = None if num_classes is None else int(num_classes)
    if class_names is not None:
        class_names = tuple(str(class_name) for class_name in class_names)
        if num_classes is None or len(class_names) != num_classes:
            raise ValueError(f"class_names must name each of the num_classes={num_classes} classes; got "
                             f"{len(class_names)} names.")
    return Task(
        name=name,
        train=_check_split("train", train, num_classes, loss),
        validation=_check_split("validation", validation, num_classes, loss),
        num_classes=num_classes,
        loss=loss,
        batch_size=int(batch_size),
        seed=_check_seed(seed),
        model_builder=build_model,
        learning_rate=float(learning_rate),
        class_names=class_names,
        augmentation=augmentation,
    )


def select_labels(
    train: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray], labels: Sequence[int]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Keep only the examples whose class id is in ``labels``; class ids keep their original values."""
    valid_labels = np.unique(train[1]).tolist()
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence | np.ndarray):
        raise ValueError(f"labels must be a list of class ids, e.g. [0, 1]; got {labels!r}. Valid: {valid_labels}.")
    labels = list(labels)
    bad = [label for label in labels if isinstance(label, bool) or not isinstance(label, (int, np.integer))]
    missing = [label for label in labels if label not in bad and label not in valid_labels]
    if not labels or bad or missing:
        problem = "is empty" if not labels else f"has invalid entries {bad + missing}"
        raise ValueError(f"labels {problem}; valid labels are {valid_labels}.")
    return tuple(_keep(split, labels) for split in (train, validation))


def _keep(split: tuple[np.ndarray, np.ndarray], labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    x, y = split
    keep = np.isin(y, labels)
    return x[keep], y[keep]


def _check_split(split_name: str, split, num_classes: int | None, loss: keras.losses.Loss) \
        -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(split, (tuple, list)) or len(split) != 2:
        raise ValueError(f"{split_name} must be an (x, y) pair of arrays; got {type(split).__name__}.")
    x = np.asarray(split[0], dtype=np.float32)
    y = np.asarray(split[1])
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{split_name} needs as many x as y, at least one; got {len(x)} x and {len(y)} y.")
    if num_classes is None:
        return x, y.astype(np.float32)
    return x, targets.check_targets(split_name, y, num_classes, loss)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    return int(seed)
