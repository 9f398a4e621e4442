"""What the image-classification tasks read from outside (``tfds:NAME``, ``folder:PATH``) share: their option
checks, and images brought into NumPy arrays the same way.

Images become ``float32`` in [0, 1] (divided by their integer type's maximum, 255 for ``uint8``), shaped
``(N, height, width, channels)``, resized to ``image_size`` where one is given (bilinear with antialiasing, clipped
to [0, 1]; an image already of that size is unchanged); labels become ``int64`` class ids.
"""

from __future__ import annotations

import numpy as np

LOAD_BATCH_SIZE = 256


def check_image_size(image_size) -> tuple[int, int] | None:
    """``(height, width)`` as ints, or None (keep the size); a ``ValueError`` otherwise."""
    if image_size is None:
        return None
    if (
        isinstance(image_size, (tuple, list)) and len(image_size) == 2
        and all(not isinstance(side, bool) and isinstance(side, (int, np.integer)) and side > 0 for side in image_size)
    ):
        return int(image_size[0]), int(image_size[1])
    raise ValueError(f"image_size must be None (keep the size) or (height, width) in pixels; got {image_size!r}.")


def check_num_examples(option: str, value) -> int | None:
    """A cap on a number of examples: a positive integer, or None for all."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
        raise ValueError(f"{option} must be a positive integer or None (all); got {value!r}.")
    return None if value is None else int(value)


def check_labels(labels, num_classes: int, names: list[str] | None = None) -> list[int]:
    """The class ids ``labels`` names: a non-empty list of class ids, or of class names where ``names`` are
    known; a ``ValueError`` listing the valid ones otherwise."""
    names = list(names or [])
    valid = ", ".join(f"{i} ({name})" for i, name in enumerate(names)) if names else f"0 to {num_classes - 1}"
    ids = []
    if isinstance(labels, (list, tuple)) and labels:
        for label in labels:
            if isinstance(label, str) and label in names:
                ids.append(names.index(label))
            elif not isinstance(label, bool) and isinstance(label, (int, np.integer)) and 0 <= label < num_classes:
                ids.append(int(label))
            else:
                break
        else:
            return ids
    raise ValueError(f"labels must be a non-empty list of class ids{' or names' if names else ''}; got "
                     f"{labels!r}. Valid: {valid}.")


def prepare(image, image_size: tuple[int, int] | None):
    """One image (a tensor, any number type) as ``float32`` in [0, 1], resized to ``image_size`` if given."""
    import tensorflow as tf

    scale = float(image.dtype.max) if image.dtype.is_integer else 1.0
    image = tf.cast(image, tf.float32) / scale
    if image_size is not None:
        image = tf.clip_by_value(tf.image.resize(image, image_size, antialias=True), 0.0, 1.0)
    return image


def to_arrays(dataset, split_name: str, labels: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of a ``tf.data`` set of ``(image, label)`` pairs already prepared; a ``ValueError`` if it is
    empty (``labels``: the classes it was filtered to, for the message)."""
    batches = list(dataset.batch(LOAD_BATCH_SIZE).as_numpy_iterator())
    if not batches:
        raise ValueError(f"The split {split_name!r} holds no examples{' of labels ' + str(labels) if labels else ''}.")
    x = np.concatenate([batch[0] for batch in batches]).astype(np.float32, copy=False)
    y = np.concatenate([batch[1] for batch in batches]).reshape(-1).astype(np.int64)
    return x, y
