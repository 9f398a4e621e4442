"""Checkpoints of a trial at a measured epoch: ``Runs.state.capture`` in one ``.npz`` file, written atomically.

Only the latest checkpoint of a trial is kept. A trial that resumes loads it and goes on from the next epoch.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np

from Runs import paths, state
from Runs.files import replace_atomically


def save_checkpoint(results_csv, trial: int, epoch: int, model: keras.Model, measures: dict) -> Path:
    arrays = state.capture(model, measures)
    target = paths.checkpoint_file(results_csv, trial, epoch)
    # np.savez appends ".npz" to a name without it, so it writes to an open file instead.
    replace_atomically(target, lambda temporary: _savez(temporary, arrays))
    for older in target.parent.glob("epoch_*.npz"):
        if older != target:
            older.unlink()
    return target


def _savez(path: Path, arrays: dict) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def latest_checkpoint(results_csv, trial: int) -> tuple[int, Path] | None:
    directory = paths.checkpoint_dir(results_csv, trial)
    found = []
    for file in directory.glob("epoch_*.npz"):
        match = re.fullmatch(r"epoch_(\d+)\.npz", file.name)
        if match:
            found.append((int(match.group(1)), file))
    return max(found) if found else None


def load_checkpoint(file: Path, model: keras.Model, measures: dict) -> None:
    with np.load(file) as data:
        arrays = dict(data)
    state.restore(model, measures, arrays, source=f"Checkpoint {file}")
