"""Checkpoints of a trial, one per measured epoch: ``Runs.state.capture`` in one ``.npz`` file, written atomically
(``results/foo_checkpoints/trial_3/epoch_2.npz``).

Every measured epoch's checkpoint is kept, so the rows of any measured epoch can be measured again from the state
they were measured on (a deleted or damaged results file costs no training). A checkpoint that cannot be read
(a damaged disk, a file copied in part) is moved aside to ``epoch_2.npz.corrupt`` with a warning, and the trial
goes on from an earlier state.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np

from Runs import paths, state
from Runs.files import remove_leftovers, replace_atomically

CORRUPT_SUFFIX = ".corrupt"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, or does not fit the model it is loaded into."""


def save_checkpoint(results_csv, trial: int, epoch: int, model: keras.Model, measures: dict) -> Path:
    arrays = state.capture(model, measures)
    target = paths.checkpoint_file(results_csv, trial, epoch)
    # np.savez appends ".npz" to a name without it, so it writes to an open file instead.
    replace_atomically(target, lambda temporary: _savez(temporary, arrays))
    return target


def _savez(path: Path, arrays: dict) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def checkpoints(results_csv, trial: int) -> dict[int, Path]:
    """The checkpoint files of ``trial``, by epoch."""
    found = {}
    directory = paths.checkpoint_dir(results_csv, trial)
    if directory.is_dir():
        for file in directory.glob("epoch_*.npz"):
            match = re.fullmatch(r"epoch_(\d+)\.npz", file.name)
            if match:
                found[int(match.group(1))] = file
    return dict(sorted(found.items()))


def latest_checkpoint(results_csv, trial: int) -> tuple[int, Path] | None:
    found = checkpoints(results_csv, trial)
    return max(found.items()) if found else None


def remove_leftover_files(results_csv, trial: int) -> None:
    """Remove the temporary files of checkpoints whose writer died before renaming them (one process runs a
    trial at a time, so none is being written)."""
    directory = paths.checkpoint_dir(results_csv, trial)
    if directory.is_dir():
        remove_leftovers(directory, "epoch_*.npz")


def remove_checkpoints(results_csv) -> int:
    """Delete every trial's checkpoint files of ``results_csv`` (when the configuration they belong to is
    replaced); returns how many were deleted. Other files in those folders are left alone."""
    removed = 0
    root = paths.checkpoint_root(results_csv)
    for file in root.glob("trial_*/epoch_*.npz*") if root.is_dir() else ():
        file.unlink()
        removed += 1
    return removed


def load_checkpoint(file: Path, model: keras.Model, measures: dict) -> None:
    """Assign the state in ``file`` to the model, its optimizer and the measures; ``CheckpointError`` naming the
    file if it cannot be read or does not fit (then nothing has been assigned)."""
    try:
        with np.load(file) as data:
            arrays = dict(data)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"Checkpoint {file} cannot be read ({type(error).__name__}: {error}).") from error
    try:
        state.restore(model, measures, arrays, source=f"Checkpoint {file}")
    except (ValueError, KeyError) as error:
        raise CheckpointError(str(error)) from error


def set_aside(file: Path, error: Exception, fallback: str) -> Path:
    """Move an unreadable checkpoint to ``NAME.corrupt`` (so no later run tries it again) and warn, naming the file
    and what the trial does instead (``fallback``)."""
    aside = file.with_name(file.name + CORRUPT_SUFFIX)
    file.replace(aside)
    warnings.warn(f"{error} It was moved to {aside}; the trial goes on {fallback}.", RuntimeWarning, stacklevel=2)
    return aside
