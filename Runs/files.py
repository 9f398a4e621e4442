"""Writing files so that a crash never leaves half of one: write a temporary file beside the target, flush it to
disk, then rename it over the target (a rename within one folder is atomic)."""

from __future__ import annotations

import os
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
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_atomically(path: str | Path, text: str) -> Path:
    """Replace ``path``'s content by ``text`` atomically."""
    return replace_atomically(path, lambda temporary: temporary.write_text(text))
