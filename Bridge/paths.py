"""Every output path of a bridge study, built in one place from its ``results_dir``.

    results/bridge_permuted_digits/thresholding.csv      task A thresholded with each measure's importances
    results/bridge_permuted_digits/thresholding.json     the study's configuration (and each part's CSV path)
    results/bridge_permuted_digits/sequential.csv        the EWC runs, evaluated on the reported validation split
    results/bridge_permuted_digits/selection.csv         the same runs, evaluated on the selection split (λ choice)
    results/bridge_permuted_digits/thresholding_checkpoints/trial_3/epoch_E.npz
                                                         task A's trained state and importances while a trial runs

Each CSV has its lock and JSON beside it as ``Runs.paths`` names them; the checkpoint is ``Runs.paths``'
checkpoint of the thresholding part at epoch E (the epochs trained on task A).
"""

from __future__ import annotations

from pathlib import Path

from Runs import paths

THRESHOLDING = "thresholding"
SEQUENTIAL = "sequential"
SELECTION = "selection"
PARTS = (THRESHOLDING, SEQUENTIAL, SELECTION)


def part_csv(results_dir, part: str) -> Path:
    """The CSV of one part of the study (``PARTS``)."""
    if part not in PARTS:
        raise ValueError(f"Unknown part {part!r}; valid: {list(PARTS)}.")
    return Path(results_dir) / f"{part}.csv"


def first_task_checkpoint(results_dir, trial: int, epoch: int) -> Path:
    """Task A's trained state and every measure's importances of it, kept until the trial is complete."""
    return paths.checkpoint_file(part_csv(results_dir, THRESHOLDING), trial, epoch)
