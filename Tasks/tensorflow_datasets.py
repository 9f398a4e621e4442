"""tfds:NAME: any image-classification data set of TensorFlow Datasets (https://www.tensorflow.org/datasets/catalog).

``Tasks.get_task("tfds:beans", seed=0, image_size=(64, 64))``. NAME is anything ``tfds.load`` takes (``"mnist"``,
``"beans"``, ``"cifar10:3.0.2"``, ``"imagenette/160px"``) whose supervised keys are an ``Image`` and a
``ClassLabel``; the task is called ``"tfds:NAME"`` (the results CSV's ``task`` column).

Data: ``tfds.load(NAME, split=..., as_supervised=True, shuffle_files=False)`` read into NumPy arrays: images
``float32`` scaled to [0, 1] by their integer type's maximum (255 for ``uint8``), shaped ``(N, height, width,
channels)``, resized to ``image_size`` if given (bilinear with antialiasing); labels ``int64`` class ids.
``num_classes`` is the ``ClassLabel``'s ``num_classes``.
Split: ``train_split`` and ``validation_split``, any TFDS split string (``"train"``, ``"test"``, ``"validation"``,
``"train[:80%]"``), the same for every task seed. ``labels`` keeps only those classes (ids unchanged), then
``num_train_examples`` / ``num_validation_examples`` keep the first N examples in the split's stored order.
Model: ``models.build_named_model(model, ...)``; the default ``"cnn"`` is ``models.small_cnn``, with images over
``models.MAX_CONV_INPUT_SIDE`` pixels averaged down first (beans' 500x500 by 8). Adam(1e-3), batch size 32.
Options: ``train_split``, ``validation_split``, ``image_size``, ``num_train_examples``, ``num_validation_examples``,
``labels``, ``batch_size``, ``model``, ``data_dir`` (TFDS's data folder; default ``~/tensorflow_datasets``),
``download`` (False: fail at once when the data is not prepared in ``data_dir`` instead of downloading it).

TensorFlow Datasets is optional: ``pip install -r requirements-tfds.txt``. The arrays are held in memory, so for
large image sets pass ``image_size`` and ``num_train_examples``.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from Tasks import models
from Tasks.base import Task, classification_loss, make_task
from Tasks.downloads import DatasetUnavailableError

PREFIX = "tfds:"
CNN = "small_cnn"
LOAD_BATCH_SIZE = 256
INSTALL_HINT = "pip install -r requirements-tfds.txt (or pip install tensorflow-datasets)"


def import_tfds():
    """The ``tensorflow_datasets`` module, or an ``ImportError`` that says how to install it."""
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError(
            f"The tfds:NAME tasks need TensorFlow Datasets, which is not installed ({error}). Install it with: "
            f"{INSTALL_HINT}."
        ) from error
    return tfds


def task_function(name: str):
    """The ``build_task(seed=0, **options)`` of the task ``"tfds:NAME"``; fails now if TFDS is not installed."""
    dataset = name[len(PREFIX):] if name.startswith(PREFIX) else ""
    if not dataset.strip():
        raise ValueError(f"Task {name!r} names no data set; write '{PREFIX}NAME', e.g. '{PREFIX}mnist'.")
    import_tfds()
    return functools.partial(build_task, dataset)


def build_task(
    dataset: str,
    seed: int = 0,
    *,
    train_split: str = "train",
    validation_split: str = "test",
    image_size: tuple[int, int] | None = None,
    num_train_examples: int | None = None,
    num_validation_examples: int | None = None,
    labels: list[int] | None = None,
    batch_size: int = 32,
    model: str = "cnn",
    data_dir: str | None = None,
    download: bool = True,
) -> Task:
    """The task ``"tfds:<dataset>"``; see the module docstring for the options."""
    models.parse_model_spec(model)  # a bad spec fails before any loading
    train, validation, num_classes = load_data(
        dataset, train_split=train_split, validation_split=validation_split, image_size=image_size,
        num_train_examples=num_train_examples, num_validation_examples=num_validation_examples, labels=labels,
        data_dir=data_dir, download=download,
    )
    input_shape = tuple(train[0].shape[1:])
    models.check_model_spec(model, input_shape, cnn=CNN)
    model_name = re.sub(r"\W", "_", dataset)
    build = functools.partial(_build_model, model=model, input_shape=input_shape, num_classes=num_classes,
                              name=model_name)
    return make_task(f"{PREFIX}{dataset}", train, validation, build, classification_loss(), num_classes, batch_size,
                     seed)


def load_data(
    dataset: str,
    *,
    train_split: str = "train",
    validation_split: str = "test",
    image_size: tuple[int, int] | None = None,
    num_train_examples: int | None = None,
    num_validation_examples: int | None = None,
    labels: list[int] | None = None,
    data_dir: str | None = None,
    download: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], int]:
    """``((x_train, y_train), (x_validation, y_validation), num_classes)`` of a TFDS image-classification set."""
    image_size = _check_image_size(image_size)
    for option, value in (("num_train_examples", num_train_examples),
                          ("num_validation_examples", num_validation_examples)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{option} must be a positive integer or None (all); got {value!r}.")
    tfds = import_tfds()
    splits, info = _load(tfds, dataset, [train_split, validation_split], data_dir, download)
    image_key, label_key = _supervised_keys(tfds, dataset, info)
    num_classes = int(info.features[label_key].num_classes)
    if image_size is None and None in info.features[image_key].shape[:2]:
        raise ValueError(
            f"The images of {dataset!r} vary in size ({info.features[image_key].shape}); pass image_size=(height, "
            "width) to resize them."
        )
    if labels is not None:
        labels = _check_labels(labels, info.features[label_key])
    arrays = [
        _to_numpy(tfds, split, f"{dataset} {split_name}", image_size, num_examples, labels)
        for split, split_name, num_examples in zip(
            splits, (train_split, validation_split), (num_train_examples, num_validation_examples)
        )
    ]
    return arrays[0], arrays[1], num_classes


def _build_model(seed: int, *, model: str, input_shape: tuple[int, ...], num_classes: int, name: str):
    return models.build_named_model(model, input_shape, num_classes, cnn=CNN, name=name)


def _load(tfds, dataset: str, splits: list[str], data_dir: str | None, download: bool):
    """``tfds.load`` of both splits; a failure to find or download the data becomes a ``DatasetUnavailableError``.
    A ``ValueError`` (an unknown data set or split) is left as TFDS raised it: it lists the valid names."""
    try:
        return tfds.load(dataset, split=splits, as_supervised=True, with_info=True, shuffle_files=False,
                         data_dir=data_dir, download=download)
    except (ValueError, TypeError):
        raise
    except Exception as error:
        where = data_dir or "TFDS's default data folder (~/tensorflow_datasets or $TFDS_DATA_DIR)"
        raise DatasetUnavailableError(
            f"TensorFlow Datasets could not load {dataset!r} from {where}"
            f"{' or download it' if download else ' (download=False)'}: {type(error).__name__}: {error}\n"
            f"To get it: on a machine with network access run `tfds build {dataset} --data_dir <folder>` (after "
            f"{INSTALL_HINT}) and pass data_dir=<folder>, or allow this machine to download it."
        ) from error


def _supervised_keys(tfds, dataset: str, info) -> tuple[str, str]:
    keys = info.supervised_keys
    if (
        isinstance(keys, tuple) and len(keys) == 2 and all(isinstance(key, str) for key in keys)
        and isinstance(info.features[keys[0]], tfds.features.Image)
        and isinstance(info.features[keys[1]], tfds.features.ClassLabel)
    ):
        return keys
    raise ValueError(
        f"{dataset!r} is not an image-classification data set: its supervised keys {keys} must name an Image and "
        f"a ClassLabel feature; its features are {info.features}."
    )


def _check_image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if (
        isinstance(image_size, (tuple, list)) and len(image_size) == 2
        and all(not isinstance(side, bool) and isinstance(side, (int, np.integer)) and side > 0 for side in image_size)
    ):
        return int(image_size[0]), int(image_size[1])
    raise ValueError(f"image_size must be None (keep the size) or (height, width) in pixels; got {image_size!r}.")


def _check_labels(labels, label_feature) -> list[int]:
    num_classes = int(label_feature.num_classes)
    names = list(getattr(label_feature, "names", None) or [])
    valid = ", ".join(f"{i} ({name})" for i, name in enumerate(names)) if names else f"0 to {num_classes - 1}"
    ok = isinstance(labels, (list, tuple)) and labels and all(
        not isinstance(label, bool) and isinstance(label, (int, np.integer)) and 0 <= label < num_classes
        for label in labels
    )
    if not ok:
        raise ValueError(f"labels must be a non-empty list of class ids; got {labels!r}. Valid: {valid}.")
    return [int(label) for label in labels]


def _to_numpy(tfds, split, split_name: str, image_size, num_examples, labels) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow as tf

    def prepare(image, label):
        scale = float(image.dtype.max) if image.dtype.is_integer else 1.0
        image = tf.cast(image, tf.float32) / scale
        if image_size is not None:
            image = tf.clip_by_value(tf.image.resize(image, image_size, antialias=True), 0.0, 1.0)
        return image, label

    if labels is not None:
        kept = tf.constant(labels, dtype=tf.int64)
        split = split.filter(lambda image, label: tf.reduce_any(tf.equal(tf.cast(label, tf.int64), kept)))
    if num_examples is not None:
        split = split.take(num_examples)
    batches = list(tfds.as_numpy(split.map(prepare).batch(LOAD_BATCH_SIZE)))
    if not batches:
        raise ValueError(f"The split {split_name!r} holds no examples{' of labels ' + str(labels) if labels else ''}.")
    x = np.concatenate([batch[0] for batch in batches]).astype(np.float32, copy=False)
    y = np.concatenate([batch[1] for batch in batches]).reshape(-1).astype(np.int64)
    return x, y
