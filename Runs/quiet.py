"""TensorFlow's start-up and retracing chatter, silenced unless asked for.

Importing TensorFlow prints absl/oneDNN/CUDA lines from C++ straight to the process' standard error (before its
own log level applies, so ``TF_CPP_MIN_LOG_LEVEL`` alone does not stop them), and per-example gradients log
"Conv2DBackpropFilter uses a while_loop" warnings through Python's ``tensorflow`` logger. In a notebook both land
in the cell output. ``quiet_tensorflow()`` — called before anything imports TensorFlow — imports it and starts
its runtime with standard error pointed at ``/dev/null``, and raises the ``tensorflow`` logger to ERROR.
``quiet_tensorflow(verbose=True)`` changes nothing, so every line comes back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys


@contextlib.contextmanager
def _standard_error_discarded():
    """Point file descriptor 2 (what C++ writes to) at /dev/null for the duration; Python's own ``sys.stderr``
    is flushed first so nothing of it is lost."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def quiet_tensorflow(verbose: bool = False) -> None:
    """Import TensorFlow and start its runtime without its chatter (module docstring); ``verbose`` keeps it."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    already = "tensorflow" in sys.modules
    try:
        with _standard_error_discarded():
            import tensorflow as tf

            tf.config.list_physical_devices()  # starts the runtime: its CUDA probing logs here, not later
    except OSError:  # no file descriptors to redirect (an unusual embedding): import as is
        import tensorflow as tf
    if already:
        tf.get_logger().info("quiet_tensorflow: TensorFlow was imported before; only later logs are silenced")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
