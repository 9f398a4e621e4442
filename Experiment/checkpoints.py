"""Checkpoints of a trial at a measured epoch: model variables (weights, BatchNormalization statistics, dropout
seed state), optimizer variables and the training-time measures' accumulated state, in one ``.npz`` file.

Only the latest checkpoint of a trial is kept. A trial that resumes loads it and goes on from the next epoch.
"""

from __future__ import annotations

import re
from pathlib import Path

import keras
import numpy as np

from Experiment import paths


def save_checkpoint(results_csv, trial: int, epoch: int, model: keras.Model, measures: dict) -> Path:
    arrays = {f"model/{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": np.asarray(v) for i, v in enumerate(model.optimizer.variables)})
    for name, measure in measures.items():
        for key, values in measure.get_state().items():
            arrays.update({f"measure/{name}/{key}/{i}": np.asarray(a) for i, a in enumerate(values)})
    target = paths.checkpoint_file(results_csv, trial, epoch)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp.npz")
    np.savez(temporary, **arrays)
    temporary.replace(target)  # atomic: a crash never leaves half a checkpoint
    for older in target.parent.glob("epoch_*.npz"):
        if older != target:
            older.unlink()
    return target


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
    variables = model.variables
    model_keys = sorted((k for k in arrays if k.startswith("model/")), key=lambda k: int(k.split("/")[1]))
    if len(model_keys) != len(variables):
        raise ValueError(f"Checkpoint {file} holds {len(model_keys)} model variables, the model has {len(variables)}.")
    for key, variable in zip(model_keys, variables):
        variable.assign(arrays[key])
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    optimizer_keys = sorted((k for k in arrays if k.startswith("optimizer/")), key=lambda k: int(k.split("/")[1]))
    for key, variable in zip(optimizer_keys, optimizer.variables, strict=True):
        variable.assign(arrays[key])
    for name, measure in measures.items():
        prefix = f"measure/{name}/"
        state: dict[str, list] = {}
        for key in sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k.rsplit("/", 1)[1])):
            state.setdefault(key[len(prefix):].rsplit("/", 1)[0], []).append(arrays[key])
        if state:
            measure.set_state(state)
