"""Task A's checkpoint leaves nothing behind: the temporary file of a killed write is removed when the trial
opens its checkpoint again, and a checkpoint orphaned by a run that stopped after the trial's last rows is removed
when the study is run again and found finished, without training anything."""

from __future__ import annotations

import subprocess
import sys

import pytest

import Bridge.trial
from Bridge import part_csv, run_bridge
from Bridge.first_task import remove_first_task_checkpoint
from Bridge.paths import SELECTION, SEQUENTIAL, THRESHOLDING, first_task_checkpoint
from SequentialLearning import SequentialLearner


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def test_a_checkpoint_orphaned_after_the_last_rows_is_removed_without_training(make_config, tmp_path, monkeypatch):
    config = make_config(tmp_path / "study", measures=["magnitude"], measure_options={})
    checkpoint = first_task_checkpoint(config.results_dir, 0, config.epochs)

    def stop(path):  # the run dies after the trial's last rows, before removing its checkpoint
        raise KeyboardInterrupt

    monkeypatch.setattr(Bridge.trial, "remove_first_task_checkpoint", stop)
    with pytest.raises(KeyboardInterrupt):
        run_bridge(config)
    assert checkpoint.exists()
    leftover = checkpoint.with_name(f".{checkpoint.name}.{_dead_pid()}.0a1b2c3d.tmp")
    leftover.write_bytes(b"half a file")

    monkeypatch.setattr(Bridge.trial, "remove_first_task_checkpoint", remove_first_task_checkpoint)
    written = {part: part_csv(config.results_dir, part).read_bytes() for part in (THRESHOLDING, SEQUENTIAL, SELECTION)}
    trained = []
    monkeypatch.setattr(SequentialLearner, "train_task", lambda self, i: trained.append(i))
    run_bridge(config)  # every row recorded: nothing is trained, and the finished study's checkpoints are removed
    assert trained == []
    assert not checkpoint.parent.parent.exists()  # checkpoint, temporary file and their folders removed
    assert {part: part_csv(config.results_dir, part).read_bytes() for part in written} == written


def test_a_killed_checkpoint_write_is_cleaned_when_the_trial_resumes(make_config, tmp_path, monkeypatch):
    config = make_config(tmp_path / "study", measures=["magnitude"], measure_options={})
    checkpoint = first_task_checkpoint(config.results_dir, 0, config.epochs)
    run = SequentialLearner.run

    def stopping(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(SequentialLearner, "run", stopping)
    with pytest.raises(KeyboardInterrupt):
        run_bridge(config)
    leftover = checkpoint.with_name(f".{checkpoint.name}.{_dead_pid()}.0a1b2c3d.tmp")
    leftover.write_bytes(b"half a file")
    opened = []
    learn = Bridge.trial.learn_first_task

    def learning(config, sequence, seed, path):
        first = learn(config, sequence, seed, path)
        opened.append(sorted(p.name for p in path.parent.iterdir()))
        return first

    monkeypatch.setattr(SequentialLearner, "run", run)
    monkeypatch.setattr(Bridge.trial, "learn_first_task", learning)
    run_bridge(config)
    assert opened == [[checkpoint.name]]  # read back, with the leftover of the killed write gone
    assert not checkpoint.parent.parent.exists()
