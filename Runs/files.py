"""Writing files so that a crash never leaves half of one: write a temporary file beside the target, flush it to
disk, then rename it over the target (a rename within one folder is atomic)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def replace_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` to fill a temporary file beside ``path``, fsync it, and rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        temporary.replace(path)
        _sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _sync_folder(folder: Path) -> None:
    """Flush a rename in ``folder`` to disk (a power loss could otherwise undo it); not possible on every system."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_atomically(path: str | Path, text: str) -> Path:
    """Replace ``path``'s content by ``text`` atomically."""
    return replace_atomically(path, lambda temporary: temporary.write_text(text))


def check_writable(path: str | Path) -> None:
    """Create ``path``'s folder and try a temporary file in it (and ``path`` itself if it exists): a
    ``PermissionError`` that names the path now, rather than after a trial has trained."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
        if path.exists():
            with open(path, "ab"):
                pass
    except OSError as error:
        raise PermissionError(
            f"Cannot write the results {path} ({type(error).__name__}: {error}). Choose a results_csv in a folder "
            "you can write to."
        ) from error


def remove_leftovers(folder: str | Path, names: str) -> None:
    """Remove the temporary files ``replace_atomically`` left in ``folder`` for targets matching the glob ``names``
    when a process died before renaming them (``.NAME.PID.tmp``). Only for targets no other process is writing."""
    for leftover in Path(folder).glob(f".{names}.*.tmp"):
        leftover.unlink(missing_ok=True)
