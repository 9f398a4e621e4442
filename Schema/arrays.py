"""Arrays on disk: the one way the project writes and reads a ``.npz`` file (checkpoints, the bridge's first-task
state, saved importances), with the standard library and NumPy alone.

Writing is atomic (``replace_atomically``): the content goes to a temporary file in the target's folder
(``.NAME.PID.TOKEN.tmp``), which is flushed to disk (``os.fsync``), renamed over the target (``os.replace``, atomic
within one folder), and then the folder itself is fsynced, so that a power loss cannot undo the rename. A reader
never sees half a file, and an interrupted write leaves the previous file as it was. A temporary file is removed
when its write fails; one left by a process that was killed (the writer could not remove it) is removed by the
next write of the same target (a temporary file whose PID is no running process of this machine), and
``remove_leftovers`` removes them all where one process owns the folder (a run holds its results' lock).

Arrays are keyed by name, for the model's variables by their Keras 3 ``path`` (``"digits/dense/kernel"``), never
by position: ``match_arrays`` gives back the arrays of a file in the order of the variables they are loaded into,
or a ``ValueError`` naming the paths that are missing from the file, that are in the file but not in the model, and
those whose shapes differ. Keras numbers automatic names per process (``dense``, ``dense_1``, ...), so a second
build of the same architecture in one process has other paths; only where the paths do not match exactly, and
they differ only in such numbers, are the arrays matched by their remaining names (or, where those repeat, in
order). ``automatic_names`` says which names are automatic: a name that is its class's snake-case name alone or
followed by ``_<n>`` (``dense_3`` on a ``Dense`` layer; ``block_1`` on a ``Dense`` layer is a name the user chose
and matches only itself).

Why in ``Schema``: the lowest floor, which every package may import, and the atlas of ``Analysis`` reads saved
importance files with NumPy alone, so the file layout is part of what runs write and the analysis reads. The
module imports no TensorFlow or Keras (it takes variables' paths and shapes, and layers' names and class names,
as plain values), and ``import Schema`` does not load it. No pickles: loading never runs code.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

# What ``np.load`` raises on a file that is not a whole ``.npz`` (cut short, damaged, another format).
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


class ArrayFileError(ValueError):
    """A ``.npz`` file that cannot be read."""


# -- writing ---------------------------------------------------------------------------------------------------
def replace_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary)`` to fill a temporary file beside ``path``, fsync it, rename it to ``path`` and
    fsync the folder (module docstring). Leftovers of killed writes of ``path`` are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_dead_leftovers(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(temporary)
        # The writer has closed (and so flushed) the file; fsync through a new descriptor of the same file.
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        sync_folder(path.parent)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def sync_folder(folder: str | Path) -> None:
    """Flush the entries of ``folder`` (a rename in it) to disk; systems that cannot open a folder skip it."""
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


def save_arrays(path: str | Path, arrays: Mapping[str, np.ndarray], *, compressed: bool = False) -> Path:
    """Write ``arrays`` (name -> array, kept in this order) to the ``.npz`` file ``path`` atomically."""
    save = np.savez_compressed if compressed else np.savez

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:  # np.savez appends ".npz" to a file name without it
            save(handle, **arrays)

    return replace_atomically(path, write)


def remove_leftovers(folder: str | Path, names: str = "*") -> int:
    """Remove the temporary files ``replace_atomically`` left in ``folder`` for targets matching the glob ``names``
    (``.NAME.*.tmp``), whatever process left them: only for a folder no other process is writing. Returns how
    many were removed."""
    removed = 0
    folder = Path(folder)
    if folder.is_dir():
        for leftover in folder.glob(f".{names}.*.tmp"):
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


def _remove_dead_leftovers(path: Path) -> None:
    """Remove the temporary files of ``path`` whose writing process no longer runs on this machine."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(\d+)(\.[0-9a-f]+)?\.tmp")
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = pattern.fullmatch(leftover.name)
        if match and not _running(int(match.group(1))):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows: keep the file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


# -- reading ---------------------------------------------------------------------------------------------------
def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path``, by name in the file's order; ``ArrayFileError`` naming the file
    when it cannot be read (cut short, damaged, not a ``.npz``)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except READ_ERRORS as error:
        raise ArrayFileError(f"{path} cannot be read ({type(error).__name__}: {error}).") from error


def match_arrays(arrays: Mapping[str, np.ndarray], expected: Sequence[tuple[str, tuple[int, ...]]],
                 automatic: Mapping[str, Iterable[str]] | None = None, *, what: str) -> list[np.ndarray]:
    """The arrays for ``expected`` ((name, shape) pairs, e.g. variables' paths and shapes), in its order.

    Matched by exact name when the names are the same; otherwise, where ``automatic`` (``automatic_names``) lets
    names differ in Keras' automatic numbers only, one to one by name up to those numbers, or in order where those
    names repeat (the module docstring). Anything else is a ``ValueError`` that begins with ``what`` and names the
    missing, extra and shape-mismatched names."""
    names = [name for name, _ in expected]
    shapes = [tuple(shape) for _, shape in expected]
    saved = list(arrays)
    if set(saved) == set(names) and len(saved) == len(names):
        chosen = names
    else:
        chosen = _renumbered(saved, arrays, names, shapes, automatic or {})
    if chosen is not None:
        mismatched = [f"{name}: file {np.shape(arrays[key])}, model {shape}"
                      for name, key, shape in zip(names, chosen, shapes) if tuple(np.shape(arrays[key])) != shape]
        if not mismatched:
            return [arrays[key] for key in chosen]
    else:
        mismatched = [f"{name}: file {np.shape(arrays[name])}, model {shape}" for name, shape in zip(names, shapes)
                      if name in arrays and tuple(np.shape(arrays[name])) != shape]
    missing = [name for name in names if name not in arrays]
    extra = [name for name in saved if name not in set(names)]
    problems = [f"{label} {items}" for label, items in (("missing from the file:", missing),
                                                        ("in the file but not in the model:", extra),
                                                        ("shapes differ:", mismatched)) if items]
    raise ValueError(f"{what}; " + "; ".join(problems) + ".")


def _renumbered(saved: list[str], arrays: Mapping, names: list[str], shapes: list[tuple],
                automatic: Mapping[str, Iterable[str]]) -> list[str] | None:
    """The saved names for ``names`` where they differ only in automatic numbers, or None."""
    if not automatic or len(saved) != len(names):
        return None
    patterns = [_pattern(name, automatic) for name in names]
    if all(p.fullmatch(s) and tuple(np.shape(arrays[s])) == shape for p, s, shape in zip(patterns, saved, shapes)):
        return saved  # the same names up to the numbers, in the same order
    found = [[s for s in saved if p.fullmatch(s)] for p in patterns]
    if all(len(f) == 1 for f in found) and len({f[0] for f in found}) == len(saved):
        return [f[0] for f in found]  # one to one by name up to the numbers (another order)
    return None


def _pattern(name: str, automatic: Mapping[str, Iterable[str]]) -> re.Pattern:
    """A regular expression for ``name`` in which each automatic name (a part between ``/`` and ``_`` boundaries,
    longest first) may carry any automatic number of its class: ``sequential_1/dense_2/kernel`` ->
    ``sequential(_\\d+)?/dense(_\\d+)?/kernel``; optimizer slots such as ``adam/sequential_dense_kernel_momentum``
    are matched the same way."""
    finder = re.compile(r"(?<![^/_])(" + "|".join(map(re.escape, sorted(automatic, key=len, reverse=True)))
                        + r")(?![^/_])")
    parts, last = [], 0
    for match in finder.finditer(name):
        prefixes = "|".join(map(re.escape, sorted(automatic[match.group(1)])))
        parts += [re.escape(name[last:match.start()]), rf"(?:{prefixes})(?:_\d+)?"]
        last = match.end()
    parts.append(re.escape(name[last:]))
    return re.compile("".join(parts))


def automatic_names(named: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Of (name, class name) pairs (layers, the model, its optimizer), the names Keras could have given
    automatically, each with the snake-case class names it is automatic for: ``("dense_3", "Dense")`` ->
    ``{"dense_3": {"dense"}}``; ``("block_1", "Dense")`` is left out."""
    found: dict[str, set[str]] = {}
    for name, class_name in named:
        prefix = snake_case(class_name)
        if re.fullmatch(rf"{re.escape(prefix)}(_\d+)?", name):
            found.setdefault(name, set()).add(prefix)
    return found


def snake_case(name: str) -> str:
    """A class name as Keras turns it into an automatic name (``keras.src.utils.naming.to_snake_case``, which
    Keras does not export): ``BatchNormalization`` -> ``batch_normalization``, ``Conv2D`` -> ``conv2d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_keys(names: Sequence[str]) -> list[str]:
    """``names`` with each repeat of a name told apart by its occurrence (``w``, ``w#1``, ...), so variables that
    share a path (two weights a layer named alike) still have one key each."""
    seen: Counter = Counter()
    keys = []
    for name in names:
        keys.append(name if not seen[name] else f"{name}#{seen[name]}")
        seen[name] += 1
    return keys
