"""Run a bridge study: every trial of a configuration, each part into its own CSV under ``results_dir``.

The three files are held as the runners hold theirs (``Runs.run_files.RunFiles``): each is locked and repaired,
its recorded configuration compared with this one (a study with rows under another configuration is refused, with
the differences), the first trial's sequence built before anything is written, and then the configuration saved
beside each. EWC runs cut short are removed from the sequential files (``SequentialLearning.results``) before any
is redone. Trials run one after another in this process or as Ray tasks (``config.backend``; ``Runs.trials``,
``docs/ray.md``); a trial that raises does not stop the others, and one error at the end names each failed trial.

When every trial is complete, λ is extended where a measure's choice sits at the edge of the λ it was run with
(``Bridge.extension``): the new runs are made in every trial, and the choice is made again, until no choice is at
an edge that may still be extended. Task A's checkpoints are kept until then (so an extension reads task A instead
of training it again) and deleted when the study is finished.
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

from tqdm.auto import tqdm

import Aggregation
import Bridge
import Experiment
import Runs
import Schema
import SequentialLearning
import Tasks
import WeightImportance
from Bridge.config import BridgeConfig, PartConfig
from Bridge.first_task import build_sequence, remove_complete_checkpoints
from Bridge.paths import PARTS, SELECTION, SEQUENTIAL, THRESHOLDING, part_csv
from Bridge.extension import next_extensions, recorded_extensions
from Bridge.trial import run_trial, trial_complete
from Experiment.results import WRITER as THRESHOLDING_WRITER
from Experiment.results import columns_of, keys_of
from Runs.ray_trials import ray_job, registering
from Runs.run_files import RunFiles
from Runs.threads import use_num_threads
from Runs.trials import check_ray_installed, default_num_threads, raise_failures, run_trials
from Schema import SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS, thresholding_key
from SequentialLearning.results import WRITER as SEQUENTIAL_WRITER
from SequentialLearning.results import completed_runs, drop_incomplete_runs
from SequentialLearning.runner import sequential_row_key

COLUMNS = {THRESHOLDING: THRESHOLDING_COLUMNS, SEQUENTIAL: SEQUENTIAL_COLUMNS, SELECTION: SEQUENTIAL_COLUMNS}
WRITERS = {THRESHOLDING: THRESHOLDING_WRITER, SEQUENTIAL: SEQUENTIAL_WRITER, SELECTION: SEQUENTIAL_WRITER}
ROW_KEYS = {THRESHOLDING: thresholding_key, SEQUENTIAL: sequential_row_key, SELECTION: sequential_row_key}
# The packages a bridge trial needs on a Ray worker.
PACKAGES = (Schema, Runs, Tasks, WeightImportance, Aggregation, Experiment, SequentialLearning, Bridge)


def _columns(config: BridgeConfig, part: str) -> tuple[str, ...]:
    """The columns of ``part``'s file; a thresholding file keeps the layout it was written in."""
    if part == THRESHOLDING:
        return columns_of(part_csv(config.results_dir, part))
    return COLUMNS[part]


def run_bridge(config: BridgeConfig) -> Path:
    """Run (or resume) every trial of ``config``, then extend λ where a measure's choice is at the edge of what it
    was run with (``Bridge.extension``); returns the study's folder (``config.results_dir``)."""
    check_ray_installed(config.backend)  # before anything is written
    with contextlib.ExitStack() as stack:
        files = {}
        for part in PARTS:  # the first part resolves num_threads; the others record the same count
            files[part] = stack.enter_context(RunFiles(PartConfig.of(config, part_csv(config.results_dir, part)),
                                                       _columns(config, part), WRITERS[part],
                                                       default_num_threads=default_num_threads(config.backend,
                                                                                           config.num_cpus_per_trial)))
            config = files[part].config.study()
        done = recorded(config, files)
        extended = recorded_extensions(config, done)
        trials = _incomplete(config, done, extended)
        additions = {} if trials else next_extensions(config, extended, files[SELECTION].rows())
        if not trials and not additions:
            remove_complete_checkpoints(config, [])  # a study stopped between its last run and this
            return Path(config.results_dir)
        if config.backend == "local":  # a Ray worker takes the count from its environment
            use_num_threads(config.num_threads)
        build_sequence(config, config.trial_seed(trials[0] if trials else 0))  # a bad option: nothing written
        for part in PARTS:
            files[part].save_config()
        for part in (SEQUENTIAL, SELECTION):
            drop_incomplete_runs(files[part].results_csv, config.num_tasks)
        done = recorded(config, files)
        sinks = {part: files[part].writer.append for part in PARTS}
        extends = config.lambda_extension_factor is not None
        description = "bridge trials"
        while True:
            extended = {label: sorted({*extended.get(label, ()), *additions.get(label, ())})
                        for label in {*extended, *additions}}
            trials = _incomplete(config, done, extended)
            progress = tqdm(total=config.num_trials, initial=config.num_trials - len(trials), desc=description,
                            unit="trial", disable=not config.progress)
            try:
                failures = run_trials(functools.partial(run_trial, extended=extended, keep_checkpoint=extends),
                                      config, trials, sinks, done, ROW_KEYS, backend=config.backend,
                                      progress=progress, job=_ray_job(config) if config.backend == "ray" else None)
            finally:
                progress.close()
            raise_failures(config, failures, config.num_trials, num_run=len(trials), results=config.results_dir)
            done = recorded(config, files)  # a Ray trial's own record of what it did stays on its worker
            additions = next_extensions(config, extended, files[SELECTION].rows())
            if not additions:
                break
            description = "bridge trials, λ extended: " + ", ".join(
                f"{label} {'/'.join(f'{value:g}' for value in values)}" for label, values in additions.items())
        remove_complete_checkpoints(config, [])
    return Path(config.results_dir)


def _ray_job(config: BridgeConfig):
    return ray_job(config, PACKAGES, registering(Tasks.register_task, Tasks.registered_tasks()),
                   results_dir=str(Path(config.results_dir).resolve()))


def _incomplete(config: BridgeConfig, done: dict[str, set], extended: dict) -> list[int]:
    return [trial for trial in range(config.num_trials) if not trial_complete(config, trial, done, extended)]


def recorded(config: BridgeConfig, files: dict[str, RunFiles]) -> dict[str, set]:
    """Per part, what is recorded: the thresholding row keys and the completed EWC run keys."""
    return {THRESHOLDING: keys_of(files[THRESHOLDING].rows()),
            SEQUENTIAL: completed_runs(files[SEQUENTIAL].results_csv, config.num_tasks),
            SELECTION: completed_runs(files[SELECTION].results_csv, config.num_tasks)}
