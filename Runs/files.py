"""Writing files so that a crash never leaves half of one: write a temporary file beside the target, flush it to
disk, then rename it over the target (a rename within one folder is atomic) and flush the folder. The one atomic
writer is ``Schema.arrays.replace_atomically`` (arrays go through ``Schema.arrays.save_arrays``); this module
writes text with it and checks that a results path can be written."""

from __future__ import annotations

import tempfile
from pathlib import Path

from Schema.arrays import remove_leftovers, replace_atomically  # noqa: F401  (the run layer's atomic writes)


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
