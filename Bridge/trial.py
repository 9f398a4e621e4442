"""One trial of a bridge study, a plain function of (configuration, trial index): learn task A, compute every
measure's importances once, threshold task A's model with them, then learn the rest of the sequence with EWC from
that model with each of them as Ω, for every λ.

A trial whose rows are all recorded is skipped without building anything. Otherwise task A is trained (or its
checkpoint read: the same model and importances), and only the missing thresholding rows and EWC runs are made.
The checkpoint is deleted when the trial is complete (also when a run stopped before deleting it).
"""

from __future__ import annotations

from Bridge.config import BridgeConfig
from Bridge.consolidation import learn_with_ewc
from Bridge.first_task import build_sequence, learn_first_task, remove_first_task_checkpoint
from Bridge.paths import SELECTION, SEQUENTIAL, THRESHOLDING, first_task_checkpoint
from Bridge.thresholding import expected_thresholding_keys, threshold_first_task
from Runs.results import RowSink
from Schema import sequential_run_key


def trial_complete(config: BridgeConfig, trial: int, done: dict[str, set]) -> bool:
    """Whether every row of ``trial`` is recorded: ``done`` holds, per part (``Bridge.paths.PARTS``), the
    thresholding row keys and the completed EWC run keys."""
    if not expected_thresholding_keys(config, trial) <= done[THRESHOLDING]:
        return False
    runs = {sequential_run_key(trial, label, value) for label, value in config.runs()}
    return runs <= done[SEQUENTIAL] and runs <= done[SELECTION]


def run_trial(config: BridgeConfig, trial: int, sinks: dict[str, RowSink], done: dict[str, set]) -> None:
    """Run (or resume) trial ``trial``: rows of each part not in ``done[part]`` go to ``sinks[part]``."""
    checkpoint = first_task_checkpoint(config.results_dir, trial, config.epochs)
    if trial_complete(config, trial, done):
        remove_first_task_checkpoint(checkpoint)  # left behind by a run that stopped after the trial's last rows
        return
    seed = config.trial_seed(trial)
    study = build_sequence(config, seed)
    first = learn_first_task(config, study.sequence, seed, checkpoint)
    threshold_first_task(config, trial, study.sequence, first, sinks[THRESHOLDING], done[THRESHOLDING])
    learn_with_ewc(config, trial, study, first, sinks, done)
    remove_first_task_checkpoint(checkpoint)
