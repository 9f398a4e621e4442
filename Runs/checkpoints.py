"""Checkpoints of a trial, one per measured epoch: ``Runs.state.capture`` in one ``.npz`` file
(``results/foo_checkpoints/trial_3/epoch_2.npz``), written atomically and keyed by variable path
(``Schema.arrays``).

Every measured epoch's checkpoint is kept, so the rows of any measured epoch can be measured again from the state
they were measured on (a deleted or damaged results file costs no training). A checkpoint that cannot be read
(a damaged disk, a file copied in part) is moved aside to ``epoch_2.npz.corrupt`` with a warning, and the trial
goes on from an earlier state. The temporary file of a write that was killed is removed when the trial opens its
checkpoints again (``remove_leftover_files``).

When a run's configuration is replaced (``Runs.run_files``), ``remove_checkpoints`` deletes what was made under
the old one: every checkpoint and the saved importances (``results/foo_importances``).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path

import keras

from Runs import paths, state
from Schema.arrays import ArrayFileError, load_arrays, remove_leftovers, save_arrays

CORRUPT_SUFFIX = ".corrupt"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read, or does not fit the model it is loaded into."""


def save_checkpoint(results_csv, trial: int, epoch: int, model: keras.Model, measures: dict) -> Path:
    return save_arrays(paths.checkpoint_file(results_csv, trial, epoch), state.capture(model, measures))


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


def remove_leftover_files(results_csv, trial: int) -> None:
    """Remove the temporary files of checkpoints whose writer died before renaming them (one process runs a
    trial at a time, so none is being written)."""
    remove_leftovers(paths.checkpoint_dir(results_csv, trial), "epoch_*.npz")


def remove_checkpoints(results_csv) -> int:
    """Delete what was made under the configuration of ``results_csv`` when it is replaced: every trial's
    checkpoint files and the saved importances (``results/foo_importances/trial_k/epoch_e/MEASURE.npz``), with
    the temporary files of killed writes. Returns how many files were deleted. Other files are left alone, and
    so are the folders they keep from being empty."""
    removed = 0
    root = paths.checkpoint_root(results_csv)
    for folder in root.glob("trial_*") if root.is_dir() else ():
        for file in folder.glob("epoch_*.npz*"):
            file.unlink()
            removed += 1
        removed += remove_leftovers(folder, "epoch_*.npz")
    importances = paths.importances_root(results_csv)
    folders = sorted(importances.glob("trial_*/epoch_*")) if importances.is_dir() else []
    for folder in folders:
        for file in folder.glob("*.npz"):
            file.unlink()
            removed += 1
        removed += remove_leftovers(folder, "*.npz")
    for folder in folders + sorted({f.parent for f in folders}) + [importances]:
        with contextlib.suppress(OSError):  # not empty: it keeps files of its own
            folder.rmdir()
    return removed


def load_checkpoint(file: Path, model: keras.Model, measures: dict) -> None:
    """Assign the state in ``file`` to the model, its optimizer and the measures; ``CheckpointError`` naming the
    file if it cannot be read or does not fit (then nothing has been assigned)."""
    try:
        arrays = load_arrays(file)
    except ArrayFileError as error:
        raise CheckpointError(f"Checkpoint {error}") from error
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
