"""One trial of a bridge study, a plain function of (configuration, trial index): learn task A, compute every
measure's importances once, threshold task A's model with them, then learn the rest of the sequence with EWC from
that model with each of them as Ω, for every λ (the grid and the values the study extended it with,
``Bridge.extension``).

A trial whose rows are all recorded is skipped without building anything. Otherwise task A is trained (or its
checkpoint read: the same model and importances), and only the missing thresholding rows and EWC runs are made.
The checkpoint is deleted when the trial is complete, unless the study may still extend λ (then the runner deletes
it when the study is finished, and a later extension reads task A from it instead of training it again).
"""

from __future__ import annotations

from Bridge.config import BridgeConfig
from Bridge.consolidation import learn_with_ewc
from Bridge.extension import recorded_extensions
from Bridge.first_task import build_sequence, learn_first_task, remove_first_task_checkpoint
from Bridge.paths import SELECTION, SEQUENTIAL, THRESHOLDING, first_task_checkpoint
from Bridge.thresholding import expected_thresholding_keys, threshold_first_task
from Runs.results import RowSink
from Schema import sequential_run_key


def trial_complete(config: BridgeConfig, trial: int, done: dict[str, set], extended: dict | None = None) -> bool:
    """Whether every row of ``trial`` is recorded: ``done`` holds, per part (``Bridge.paths.PARTS``), the
    thresholding row keys and the completed EWC run keys; ``extended``: per label, the λ the study added to the
    grid (None: those recorded in ``done``, ``Bridge.extension.recorded_extensions``)."""
    if not expected_thresholding_keys(config, trial) <= done[THRESHOLDING]:
        return False
    extended = recorded_extensions(config, done) if extended is None else extended
    runs = {sequential_run_key(trial, label, value) for label, value in config.runs(extended)}
    return runs <= done[SEQUENTIAL] and runs <= done[SELECTION]


def run_trial(config: BridgeConfig, trial: int, sinks: dict[str, RowSink], done: dict[str, set],
              extended: dict | None = None, keep_checkpoint: bool = False) -> None:
    """Run (or resume) trial ``trial``: rows of each part not in ``done[part]`` go to ``sinks[part]``; ``extended``
    as in ``trial_complete``; ``keep_checkpoint``: leave task A's checkpoint for a later extension of λ."""
    extended = recorded_extensions(config, done) if extended is None else extended
    checkpoint = first_task_checkpoint(config.results_dir, trial, config.epochs)
    if trial_complete(config, trial, done, extended):
        return
    seed = config.trial_seed(trial)
    study = build_sequence(config, seed)
    first = learn_first_task(config, study.sequence, seed, checkpoint)
    if not expected_thresholding_keys(config, trial) <= done[THRESHOLDING]:  # an extension of λ: all there
        threshold_first_task(config, trial, study.sequence, first, sinks[THRESHOLDING], done[THRESHOLDING])
    learn_with_ewc(config, trial, study, first, sinks, done, extended)
    if not keep_checkpoint:
        remove_first_task_checkpoint(checkpoint)

