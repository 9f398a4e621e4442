"""Batches of ``(x, y)`` from the forms a measure accepts: a pair of arrays or a ``tf.data.Dataset``; and the same
examples regrouped into batches of a fixed size (``rebatch``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf


def iterate_batches(data, batch_size: int = 128, num_samples: int | None = None,
                    check_targets: Callable | None = None) -> Iterator[tuple[tf.Tensor, tf.Tensor]]:
    """Yield ``(x, y)`` tensor batches holding the first ``num_samples`` examples of ``data`` (all if None).

    ``data`` is an ``(x, y)`` pair of arrays, or a ``tf.data.Dataset`` yielding ``(x, y)`` batches (its own
    batching is kept; the last batch is cut so that exactly ``num_samples`` examples are used).
    ``check_targets(x, y)``, if given, is called on every batch before it is yielded (it raises on bad targets).
    """
    if check_targets is not None:
        for x, y in iterate_batches(data, batch_size, num_samples):
            check_targets(x, y)
            yield x, y
        return
    if num_samples is not None and (not isinstance(num_samples, (int, np.integer)) or num_samples < 1):
        raise ValueError(f"num_samples must be a positive integer or None, got {num_samples!r}.")
    if data is None:
        raise ValueError("This measure needs data: pass (x, y) arrays or a tf.data.Dataset of (x, y) batches.")
    if isinstance(data, tf.data.Dataset):
        remaining = num_samples
        for batch in data:
            if not isinstance(batch, (tuple, list)) or len(batch) < 2:
                raise ValueError("A dataset given to a measure must yield (x, y) batches.")
            x, y = batch[0], batch[1]
            if remaining is not None:
                x, y = x[:remaining], y[:remaining]
                remaining -= int(tf.shape(x)[0])
            yield tf.convert_to_tensor(x), tf.convert_to_tensor(y)
            if remaining is not None and remaining <= 0:
                return
        return
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"data must be an (x, y) pair of arrays or a tf.data.Dataset, got {type(data).__name__}.")
    x, y = data
    if len(x) != len(y):
        raise ValueError(f"data has {len(x)} inputs but {len(y)} targets.")
    if len(x) == 0:
        raise ValueError("data holds no examples.")
    count = len(x) if num_samples is None else min(num_samples, len(x))
    for start in range(0, count, batch_size):
        stop = min(start + batch_size, count)
        yield tf.convert_to_tensor(x[start:stop]), tf.convert_to_tensor(y[start:stop])


def rebatch(batches, size: int) -> Iterator[tuple[tf.Tensor, tf.Tensor]]:
    """The examples of ``(x, y)`` ``batches``, in order, regrouped into batches of ``size`` (the last may be
    smaller)."""
    xs, ys, count = [], [], 0
    for x, y in batches:
        xs.append(x)
        ys.append(y)
        count += int(x.shape[0])
        while count >= size:
            x_all, y_all = tf.concat(xs, 0), tf.concat(ys, 0)
            yield x_all[:size], y_all[:size]
            xs, ys, count = [x_all[size:]], [y_all[size:]], count - size
    if count:
        yield tf.concat(xs, 0), tf.concat(ys, 0)
