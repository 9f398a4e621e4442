"""The number of threads TensorFlow splits one operation over (intra-op threads), which a run's numbers depend on.

It sets the order in which the partial sums of a matrix product or a reduction are added, so 1 and 2 threads give
results that differ by round-off, which training then grows (up to ~0.1 in validation loss after an epoch on
digits). A run therefore records the count it used (the ``num_threads`` field of its configuration) and a resumed
run uses the same one.

TensorFlow fixes the count when its runtime starts (the first operation in the process): from
``tf.config.threading.set_intra_op_parallelism_threads`` if it was called before, else from the environment
variable ``TF_NUM_INTRAOP_THREADS``, else the number of CPUs the process may run on.
"""

from __future__ import annotations

import os

import tensorflow as tf


def default_num_threads() -> int:
    """The count TensorFlow takes when nothing sets it: ``TF_NUM_INTRAOP_THREADS``, else the process's CPUs."""
    value = os.environ.get("TF_NUM_INTRAOP_THREADS", "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def num_threads_in_use() -> int:
    """The intra-op threads TensorFlow uses (or will use, if its runtime has not started) in this process."""
    return tf.config.threading.get_intra_op_parallelism_threads() or default_num_threads()


def use_num_threads(count: int) -> None:
    """Make TensorFlow in this process use ``count`` intra-op threads; a ``RuntimeError`` that says what to do if
    its runtime already started with another count (it cannot change then)."""
    in_use = num_threads_in_use()
    if in_use == count:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(count)
    except RuntimeError as error:  # the runtime has started
        raise RuntimeError(
            f"TensorFlow already runs with {in_use} intra-op thread(s) in this process and cannot change to "
            f"num_threads={count}. Restart the kernel (or Python) and run this configuration before anything else "
            f"uses TensorFlow, or set TF_NUM_INTRAOP_THREADS={count} before starting Python."
        ) from error
