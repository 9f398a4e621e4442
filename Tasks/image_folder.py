"""folder:PATH: image classification from a folder of images, one sub-folder per class, as most image data is kept.

``Tasks.get_task("folder:data/scenes", image_size=(64, 64))``; the task is called ``"folder:PATH"`` as written
(the results CSV's ``task`` column).

Layout: PATH holds a training and a validation folder, ``seg_train``/``seg_test`` (the original toolkit's Intel
Natural Scenes layout) or ``train`` with ``validation``, ``val`` or ``test`` (``SPLIT_FOLDERS``), each holding one
sub-folder per class; a folder that holds only a folder of its own name (``seg_train/seg_train``, as the Intel
Natural Scenes zip unpacks) is looked into. Otherwise PATH itself holds the class sub-folders, and a stratified
``validation_fraction`` of each class (default 0.2) is held out for validation, drawn with ``split_seed``; the same
split for every task seed. ``validation_fraction`` given for a folder with its own validation folder splits the
training folder instead (the validation folder is then not read).
Classes: the sub-folder names in sorted order are class ids 0, 1, ... (``task.class_names``); sub-folders of a
class folder belong to it, hidden folders (``.ipynb_checkpoints``) are skipped, and the validation folder's classes
must be among the training folder's. Images: the files with the extensions of Keras'
``image_dataset_from_directory`` (``FORMATS``), read with ``tf.io.decode_image`` into ``color_mode``'s channels
(``grayscale`` 1, ``rgb`` 3, ``rgba`` 4: converted as Keras converts them), then as ``images.py`` says: ``float32``
in [0, 1], resized to ``image_size`` (default: the first training image's size; every other image is resized to
it). Keras' ``image_dataset_from_directory`` is not called: its shuffled order also depends on TensorFlow's global
seed (which every seeded model build resets), and it would decode every file; here the files are listed as it
lists them and only the examples kept are decoded (a cap on a folder of 14,000 images reads the capped number).
Order and caps: each split is in an order drawn from ``split_seed`` (not class by class), ``labels`` (class ids or
names) keeps only those classes (ids unchanged), and ``num_train_examples`` / ``num_validation_examples`` keep the
first N of what is left: a seeded sample of about the classes' shares.
Model: ``models.build_named_model(model, ...)``; the default ``"cnn"`` is ``models.small_cnn``, with images over
``models.MAX_CONV_INPUT_SIDE`` pixels averaged down first. Adam(1e-3), batch size 32.
Options: ``image_size``, ``color_mode``, ``validation_fraction``, ``split_seed``, ``num_train_examples``,
``num_validation_examples``, ``labels``, ``batch_size``, ``model``, ``augmentation`` (``augmentation.py``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from Tasks import images, models
from Tasks.augmentation import check_augmentation
from Tasks.base import Task, classification_loss, make_task

PREFIX = "folder:"
CNN = "small_cnn"
FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
SPLIT_FOLDERS = (("seg_train", "seg_test"), ("train", "validation"), ("train", "val"), ("train", "test"))
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
DEFAULT_VALIDATION_FRACTION = 0.2


def task_function(name: str):
    """The ``build_task(seed=0, **options)`` of the task ``"folder:PATH"``; fails now if PATH is not a folder."""
    path = name[len(PREFIX):] if name.startswith(PREFIX) else ""
    if not path.strip():
        raise ValueError(f"Task {name!r} names no folder; write '{PREFIX}PATH', e.g. '{PREFIX}data/scenes'.")
    if not Path(path).expanduser().is_dir():
        found = "does not exist" if not Path(path).expanduser().exists() else "is not a folder"
        raise ValueError(f"Task {name!r}: {path!r} {found} (relative paths are taken from {Path.cwd()}); it must be "
                         "a folder of class sub-folders, or of training and validation folders of them "
                         f"({', '.join('/'.join(pair) for pair in SPLIT_FOLDERS)}).")
    return functools.partial(build_task, path)


def build_task(
    path: str,
    seed: int = 0,
    *,
    image_size: tuple[int, int] | None = None,
    color_mode: str = "rgb",
    validation_fraction: float | None = None,
    split_seed: int = 0,
    num_train_examples: int | None = None,
    num_validation_examples: int | None = None,
    labels: list | None = None,
    batch_size: int = 32,
    model: str = "cnn",
    augmentation: dict | None = None,
) -> Task:
    """The task ``"folder:<path>"``; see the module docstring for the options."""
    models.parse_model_spec(model)  # bad options fail before any image is read
    check_augmentation(augmentation)
    train, validation, class_names = load_data(
        path, image_size=image_size, color_mode=color_mode, validation_fraction=validation_fraction,
        split_seed=split_seed, num_train_examples=num_train_examples,
        num_validation_examples=num_validation_examples, labels=labels,
    )
    input_shape = tuple(train[0].shape[1:])
    models.check_model_spec(model, input_shape, cnn=CNN, augmentation=augmentation)
    build = functools.partial(_build_model, model=model, input_shape=input_shape, num_classes=len(class_names),
                              name=re.sub(r"\W", "_", Path(path).expanduser().resolve().name or "folder"),
                              augmentation=augmentation)
    return make_task(f"{PREFIX}{path}", train, validation, build, classification_loss(), len(class_names),
                     batch_size, seed, class_names=class_names, augmentation=augmentation)


def load_data(path: str, *, image_size=None, color_mode: str = "rgb", validation_fraction: float | None = None,
              split_seed: int = 0, num_train_examples: int | None = None,
              num_validation_examples: int | None = None, labels=None):
    """``((x_train, y_train), (x_validation, y_validation), class_names)`` of the folder ``path``."""
    image_size = images.check_image_size(image_size)
    if color_mode not in COLOR_MODES:
        raise ValueError(f"Unknown color_mode {color_mode!r}; valid: {list(COLOR_MODES)}.")
    if validation_fraction is not None and (isinstance(validation_fraction, bool) or not isinstance(
            validation_fraction, (int, float)) or not 0 < validation_fraction < 1):
        raise ValueError(f"validation_fraction must be a fraction strictly between 0 and 1, or None (the folder's "
                         f"validation folder, else {DEFAULT_VALIDATION_FRACTION}); got {validation_fraction!r}.")
    if isinstance(split_seed, bool) or not isinstance(split_seed, (int, np.integer)) or split_seed < 0:
        raise ValueError(f"split_seed must be a non-negative integer; got {split_seed!r}.")
    caps = (images.check_num_examples("num_train_examples", num_train_examples),
            images.check_num_examples("num_validation_examples", num_validation_examples))
    train_folder, validation_folder = find_layout(Path(path).expanduser())
    class_names = class_folders(train_folder)
    train = index(train_folder, class_names)
    keep = None if labels is None else images.check_labels(labels, len(class_names), class_names)
    if validation_folder is None or validation_fraction is not None:
        train, validation = _split(train, validation_fraction or DEFAULT_VALIDATION_FRACTION, split_seed, train_folder)
    else:
        validation = index(validation_folder, class_names, training_folder=train_folder)
    channels = COLOR_MODES[color_mode]
    image_size = image_size or _size_of(train[0][0], channels)
    splits = []
    for number, (name, (paths, ids), cap) in enumerate(zip(("train", "validation"), (train, validation), caps)):
        order = np.random.default_rng([split_seed, number]).permutation(len(paths))
        if keep is not None:
            order = order[np.isin(ids[order], keep)]
        order = order[:cap]
        splits.append(_read([paths[i] for i in order], ids[order], channels, image_size, f"{path} {name}", keep))
    return splits[0], splits[1], class_names


def find_layout(path: Path) -> tuple[Path, Path | None]:
    """(training folder, validation folder or None) of ``path`` (module docstring)."""
    if not path.is_dir():
        raise ValueError(f"{str(path)!r} is not a folder.")
    for train_name, validation_name in SPLIT_FOLDERS:
        if (path / train_name).is_dir() and (path / validation_name).is_dir():
            return _unnested(path / train_name), _unnested(path / validation_name)
    return _unnested(path), None


def _unnested(folder: Path) -> Path:
    entries = [entry for entry in folder.iterdir() if not entry.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name == folder.name:
        return entries[0]
    return folder


def class_folders(folder: Path) -> list[str]:
    """The class sub-folders of ``folder``, sorted; a ``ValueError`` if there are none."""
    names = sorted(entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith("."))
    if not names:
        raise ValueError(
            f"{str(folder)!r} holds no class sub-folders: put each class's images in a sub-folder named after it "
            f"({folder}/cat/1.png, {folder}/dog/2.png, ...), or training and validation folders of them "
            f"({', '.join('/'.join(pair) for pair in SPLIT_FOLDERS)})."
        )
    return names


def image_files(folder: Path) -> list[Path]:
    """The image files under ``folder`` (``FORMATS``, any case), sorted, hidden ones and folders skipped."""
    return sorted(file for file in folder.rglob("*") if file.suffix.lower() in FORMATS and file.is_file()
                  and not any(part.startswith(".") for part in file.relative_to(folder).parts))


def index(folder: Path, class_names: list[str], training_folder: Path | None = None) -> tuple[list[Path], np.ndarray]:
    """(image paths, class ids) of ``folder``'s class sub-folders, class by class; every class of a training folder
    (``training_folder`` None) must hold an image."""
    present = [entry.name for entry in folder.iterdir() if entry.is_dir() and not entry.name.startswith(".")]
    unknown = sorted(set(present) - set(class_names))
    if unknown:
        raise ValueError(f"The validation folder {str(folder)!r} has classes {unknown} that the training folder "
                         f"{str(training_folder)!r} lacks; its classes are {class_names}.")
    paths, ids = [], []
    for class_id, class_name in enumerate(class_names):
        files = image_files(folder / class_name) if (folder / class_name).is_dir() else []
        if not files and training_folder is None:
            raise ValueError(f"The class folder {str(folder / class_name)!r} holds no images ({', '.join(FORMATS)}).")
        paths.extend(files)
        ids.extend([class_id] * len(files))
    if not paths:
        raise ValueError(f"{str(folder)!r} holds no images ({', '.join(FORMATS)}) in its class folders.")
    return paths, np.asarray(ids, dtype=np.int64)


def _split(split, fraction: float, seed: int, folder: Path):
    paths, ids = split
    try:
        train, validation = train_test_split(np.arange(len(paths)), test_size=fraction, stratify=ids,
                                             random_state=seed)
    except ValueError as error:
        counts = {int(i): int(n) for i, n in zip(*np.unique(ids, return_counts=True))}
        raise ValueError(f"Cannot hold out a stratified validation_fraction={fraction} of {str(folder)!r} "
                         f"({len(paths)} images; per class id {counts}): {error}") from error
    return ([paths[i] for i in sorted(train)], ids[sorted(train)]), \
        ([paths[i] for i in sorted(validation)], ids[sorted(validation)])


def _size_of(file: Path, channels: int) -> tuple[int, int]:
    return tuple(int(side) for side in _decode(str(file), channels).shape[:2])


def _decode(path, channels: int):
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)


def _read(paths: list[Path], ids: np.ndarray, channels: int, image_size, split_name: str, labels):
    import tensorflow as tf

    if not paths:
        raise ValueError(f"The split {split_name!r} holds no examples{' of labels ' + str(labels) if labels else ''}.")
    dataset = tf.data.Dataset.from_tensor_slices(([str(p) for p in paths], ids)).map(
        lambda path, label: (images.prepare(_decode(path, channels), image_size), label),
        num_parallel_calls=tf.data.AUTOTUNE, deterministic=True,
    )
    try:
        return images.to_arrays(dataset, split_name, labels)
    except tf.errors.InvalidArgumentError as error:
        for path in paths:
            try:
                _decode(str(path), channels)
            except tf.errors.InvalidArgumentError as bad:
                raise ValueError(f"Cannot read the image {str(path)!r} as {channels}-channel image: "
                                 f"{bad.message}") from bad
        raise ValueError(f"Cannot read the images of {split_name!r}: {error.message}") from error


def _build_model(seed: int, *, model: str, input_shape: tuple[int, ...], num_classes: int, name: str,
                 augmentation: dict | None = None):
    return models.build_named_model(model, input_shape, num_classes, cnn=CNN, name=name, augmentation=augmentation,
                                    seed=seed)
