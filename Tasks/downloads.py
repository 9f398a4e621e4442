"""Finding datasets without a network: the Keras cache, and downloads that fail fast.

A task that cannot find its data raises ``DatasetUnavailableError`` saying where it looked and how to get the
data. Downloads go through ``keras.datasets`` with a socket timeout, so a machine without network gets that
error within ``DOWNLOAD_TIMEOUT_SECONDS`` instead of hanging.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

DOWNLOAD_TIMEOUT_SECONDS = 20.0


class DatasetUnavailableError(RuntimeError):
    """A task's dataset is neither on disk nor downloadable; the message says where it looked and what to do."""


def keras_cache_directory(subdirectory: str = "") -> Path:
    """Where ``keras.datasets`` caches downloads: ``$KERAS_HOME/datasets`` or ``~/.keras/datasets`` (as Keras)."""
    if "KERAS_HOME" in os.environ:
        keras_home = Path(os.environ["KERAS_HOME"])
    else:
        base = Path(os.path.expanduser("~"))
        keras_home = (base if os.access(base, os.W_OK) else Path("/tmp")) / ".keras"
    return keras_home.expanduser() / "datasets" / subdirectory


def download_with_keras(load_data: Callable[[], tuple], dataset: str, looked_in: list[str], how_to_get: str):
    """Call a ``keras.datasets.<name>.load_data`` (which reads the Keras cache or downloads) without hanging.

    Any failure becomes a ``DatasetUnavailableError`` that lists ``looked_in`` and the hint ``how_to_get``.
    """
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_SECONDS)
    try:
        return load_data()
    except Exception as error:
        places = "".join(f"\n  - {place}" for place in looked_in)
        raise DatasetUnavailableError(
            f"{dataset} is not available. Looked in:{places}\n"
            f"and loading it through Keras (cache {keras_cache_directory()} or download, "
            f"timeout {DOWNLOAD_TIMEOUT_SECONDS:g} s) failed with {type(error).__name__}: {error}\n"
            f"To get it: {how_to_get}"
        ) from error
    finally:
        socket.setdefaulttimeout(previous_timeout)
