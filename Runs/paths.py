"""Every output path of a run, built in one place from its ``results_csv``.

    results/digits.csv                      the rows (all trials, keyed by ``trial``)
    results/digits.json                     the configuration that produced them
    results/digits.csv.lock                 the lock a run holds while it writes (pid, host, start time)
    results/digits_checkpoints/trial_3/     model, optimizer and tracker state, one file per measured epoch
    results/digits_importances/trial_3/epoch_2/fisher.npz   saved importances (``save_importances=True``)
"""

from __future__ import annotations

import re
from pathlib import Path

import Schema

RESULTS_FOLDER = "results"


def default_results_csv(task: str, prefix: str = "") -> str:
    """The results path of a run that names none: ``results/<prefix><task>.csv`` (task names made file-safe,
    e.g. ``tfds:beans`` -> ``tfds-beans``)."""
    return f"{RESULTS_FOLDER}/{prefix}{re.sub(r'[^A-Za-z0-9_.-]+', '-', task)}.csv"


def results_csv(results: str | Path) -> Path:
    return Path(results)


def config_json(results: str | Path) -> Path:
    return Schema.config_path(results)


def lock_file(results: str | Path) -> Path:
    path = Path(results)
    return path.with_name(path.name + ".lock")


def checkpoint_root(results: str | Path) -> Path:
    path = Path(results)
    return path.with_name(path.stem + "_checkpoints")


def checkpoint_dir(results: str | Path, trial: int) -> Path:
    return checkpoint_root(results) / f"trial_{trial}"


def checkpoint_file(results: str | Path, trial: int, epoch: int) -> Path:
    return checkpoint_dir(results, trial) / f"epoch_{epoch}.npz"


def importances_root(results: str | Path) -> Path:
    path = Path(results)
    return path.with_name(path.stem + "_importances")


def importances_file(results: str | Path, trial: int, epoch: int, measure: str) -> Path:
    """Where ``save_importances`` keeps one measure's importances of one trial and measured epoch."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", measure)
    return importances_root(results) / f"trial_{trial}" / f"epoch_{epoch}" / f"{name}.npz"
