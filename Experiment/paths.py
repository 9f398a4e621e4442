"""Every output path of an experiment, built in one place from ``results_csv``.

    results/digits.csv                      the rows (all trials, keyed by ``trial``)
    results/digits.json                     the configuration that produced them
    results/digits_checkpoints/trial_3/     model, optimizer and tracker state at each measured epoch
"""

from __future__ import annotations

from pathlib import Path


def results_csv(results: str | Path) -> Path:
    return Path(results)


def config_json(results: str | Path) -> Path:
    return Path(results).with_suffix(".json")


def checkpoint_dir(results: str | Path, trial: int) -> Path:
    path = Path(results)
    return path.with_name(path.stem + "_checkpoints") / f"trial_{trial}"


def checkpoint_file(results: str | Path, trial: int, epoch: int) -> Path:
    return checkpoint_dir(results, trial) / f"epoch_{epoch}.npz"
