"""tfds:NAME: any image-classification data set of TensorFlow Datasets (https://www.tensorflow.org/datasets/catalog).

``Tasks.get_task("tfds:beans", seed=0, image_size=(64, 64))``. NAME is anything ``tfds.load`` takes (``"mnist"``,
``"beans"``, ``"cifar10:3.0.2"``, ``"imagenette/160px"``) whose supervised keys are an ``Image`` and a
``ClassLabel``; the task is called ``"tfds:NAME"`` (the results CSV's ``task`` column).

Data: ``tfds.load(NAME, split=..., as_supervised=True, shuffle_files=False)`` read into NumPy arrays as
``images.py`` says: images ``float32`` in [0, 1] shaped ``(N, height, width, channels)``, resized to ``image_size``
if given; labels ``int64`` class ids. ``num_classes`` is the ``ClassLabel``'s ``num_classes``.
Split: ``train_split`` and ``validation_split``, any TFDS split string (``"train"``, ``"test"``, ``"validation"``,
``"train[:80%]"``), the same for every task seed. ``labels`` (class ids or the ``ClassLabel``'s names) keeps only
those classes (ids unchanged), then ``num_train_examples`` / ``num_validation_examples`` keep the first N examples
in the split's stored order.
Model: ``models.build_named_model(model, ...)``; the default ``"cnn"`` is ``models.small_cnn``, with images over
``models.MAX_CONV_INPUT_SIDE`` pixels averaged down first (beans' 500x500 by 8). Adam(1e-3), batch size 32.
Options: ``train_split``, ``validation_split``, ``image_size``, ``num_train_examples``, ``num_validation_examples``,
``labels``, ``batch_size``, ``model``, ``data_dir`` (TFDS's data folder; default ``~/tensorflow_datasets``),
``download`` (False: fail at once when the data is not prepared in ``data_dir`` instead of downloading it),
``augmentation`` (random zoom, rotation, ... in training only; ``augmentation.py``).

TensorFlow Datasets is optional: ``pip install -r requirements-tfds.txt``. The arrays are held in memory, so for
large image sets pass ``image_size`` and ``num_train_examples``.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from Tasks import images, models
from Tasks.augmentation import check_augmentation
from Tasks.base import Task, classification_loss, make_task
from Tasks.downloads import DatasetUnavailableError

PREFIX = "tfds:"
CNN = "small_cnn"
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
    augmentation: dict | None = None,
) -> Task:
    """The task ``"tfds:<dataset>"``; see the module docstring for the options."""
    models.parse_model_spec(model)  # a bad spec or augmentation fails before any loading
    check_augmentation(augmentation)
    train, validation, num_classes = load_data(
        dataset, train_split=train_split, validation_split=validation_split, image_size=image_size,
        num_train_examples=num_train_examples, num_validation_examples=num_validation_examples, labels=labels,
        data_dir=data_dir, download=download,
    )
    input_shape = tuple(train[0].shape[1:])
    models.check_model_spec(model, input_shape, cnn=CNN, augmentation=augmentation)
    model_name = re.sub(r"\W", "_", dataset)
    build = functools.partial(_build_model, model=model, input_shape=input_shape, num_classes=num_classes,
                              name=model_name, augmentation=augmentation)
    return make_task(f"{PREFIX}{dataset}", train, validation, build, classification_loss(), num_classes, batch_size,
                     seed, augmentation=augmentation)


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
    image_size = images.check_image_size(image_size)
    images.check_num_examples("num_train_examples", num_train_examples)
    images.check_num_examples("num_validation_examples", num_validation_examples)
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
        label_feature = info.features[label_key]
        labels = images.check_labels(labels, num_classes, getattr(label_feature, "names", None))
    arrays = [
        _to_numpy(tfds, split, f"{dataset} {split_name}", image_size, num_examples, labels)
        for split, split_name, num_examples in zip(
            splits, (train_split, validation_split), (num_train_examples, num_validation_examples)
        )
    ]
    return arrays[0], arrays[1], num_classes


def _build_model(seed: int, *, model: str, input_shape: tuple[int, ...], num_classes: int, name: str,
                 augmentation: dict | None = None):
    return models.build_named_model(model, input_shape, num_classes, cnn=CNN, name=name, augmentation=augmentation,
                                    seed=seed)


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


def _to_numpy(tfds, split, split_name: str, image_size, num_examples, labels) -> tuple[np.ndarray, np.ndarray]:
    import tensorflow as tf

    if labels is not None:
        kept = tf.constant(labels, dtype=tf.int64)
        split = split.filter(lambda image, label: tf.reduce_any(tf.equal(tf.cast(label, tf.int64), kept)))
    if num_examples is not None:
        split = split.take(num_examples)
    prepared = split.map(lambda image, label: (images.prepare(image, image_size), label))
    return images.to_arrays(prepared, split_name, labels)
