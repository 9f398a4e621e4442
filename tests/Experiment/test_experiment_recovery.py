"""Overnight runs never lose, duplicate or corrupt a row: whatever happened to the files (a half-written last row,
a deleted CSV, a damaged checkpoint or configuration, a failed start, a second run, SIGKILL at any moment), running
again gives the rows of an uninterrupted run, or an error that names the file and says what to do.

All runs here are one tiny two-epoch configuration; the uninterrupted run is made once and its files copied.
"""

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from Experiment import ExperimentConfig, TrialsFailedError, run_experiment
from Runs import paths
from Runs.locks import ResultsLock, ResultsLockedError
from Runs.records import ConfigFileError
from Schema import THRESHOLDING_KEY_COLUMNS
from SequentialLearning import SequentialConfig, run_sequential

ROOT = Path(__file__).resolve().parents[2]
KEYS = list(THRESHOLDING_KEY_COLUMNS)


def tiny_config(make_config, results_csv, **changes) -> ExperimentConfig:
    """2 epochs x (random, sign_flips) x weight level x 3 thresholds: 12 rows; sign_flips has tracker state."""
    values = dict(epochs=2, measures=["sign_flips"], aggregation_levels=["weight"], num_thresholds=3,
                  num_validation_examples=100, num_train_loss_examples=100, num_importance_examples=100)
    values.update(changes)
    return make_config(results_csv, **values)


@pytest.fixture(scope="module")
def whole(make_config, tmp_path_factory):
    """(config, sorted rows, seconds) of the uninterrupted run; its folder holds the CSV, JSON and checkpoints."""
    config = tiny_config(make_config, tmp_path_factory.mktemp("whole") / "run.csv")
    start = time.perf_counter()
    run_experiment(config)
    return config, sorted_rows(config.results_csv), time.perf_counter() - start


def sorted_rows(results_csv) -> pd.DataFrame:
    return pd.read_csv(results_csv).sort_values(KEYS).reset_index(drop=True)


def assert_rows_equal(results_csv, expected: pd.DataFrame) -> None:
    """Same rows, keys and values (to 1e-12), nothing duplicated."""
    actual = pd.read_csv(results_csv)
    assert not actual.duplicated(KEYS).any()
    pd.testing.assert_frame_equal(actual.sort_values(KEYS).reset_index(drop=True), expected, check_exact=False,
                                  rtol=0, atol=1e-12)


def copy_run(config, folder: Path, csv: bool = True) -> ExperimentConfig:
    """The files of ``config``'s run copied into ``folder`` (a moved run), with or without the CSV."""
    source = Path(config.results_csv)
    target = folder / source.name
    shutil.copytree(paths.checkpoint_root(source), paths.checkpoint_root(target))
    shutil.copy(paths.config_json(source), paths.config_json(target))
    if csv:
        shutil.copy(source, target)
    return ExperimentConfig.from_dict({**config.to_dict(), "results_csv": str(target)})


def cut_last_line(path: Path, keep: int) -> None:
    """Keep ``keep`` characters of the last line and drop its newline: a row half written when the run died."""
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:keep])


@pytest.mark.parametrize("keep", [5, -8], ids=["inside the key columns", "in the last value"])
def test_a_half_written_last_row_is_cut_and_measured_again(whole, tmp_path, keep):
    config, expected, _ = whole
    moved = copy_run(config, tmp_path)  # a moved folder is the same run: results_csv is no part of the identity
    cut_last_line(Path(moved.results_csv), keep)
    with pytest.warns(RuntimeWarning, match="ended in a partial row"):
        run_experiment(moved)
    assert_rows_equal(moved.results_csv, expected)


def test_deleted_results_are_measured_again_from_every_epochs_checkpoint(whole, tmp_path):
    config, expected, _ = whole
    moved = copy_run(config, tmp_path, csv=False)
    saved = {file: file.stat().st_mtime_ns for file in paths.checkpoint_root(moved.results_csv).rglob("*.npz")}
    assert len(saved) == 2  # one per measured epoch
    run_experiment(moved)
    assert_rows_equal(moved.results_csv, expected)
    assert {file: file.stat().st_mtime_ns for file in saved} == saved  # measured from them, not trained again


def test_a_damaged_checkpoint_is_set_aside_and_its_epoch_trained_again(whole, tmp_path):
    config, expected, _ = whole
    moved = copy_run(config, tmp_path, csv=False)
    damaged = paths.checkpoint_file(moved.results_csv, 0, 2)
    damaged.write_bytes(damaged.read_bytes()[:1000])
    with pytest.warns(RuntimeWarning, match=rf"Checkpoint {damaged} cannot be read[\s\S]*moved to {damaged}\.corrupt"):
        run_experiment(moved)
    assert_rows_equal(moved.results_csv, expected)  # epoch 2 trained again from epoch 1's checkpoint
    assert damaged.with_name(damaged.name + ".corrupt").exists() and damaged.exists()


def test_a_damaged_configuration_file_is_named_with_what_to_do(whole, tmp_path):
    config, expected, _ = whole
    moved = copy_run(config, tmp_path)
    json_path = paths.config_json(moved.results_csv)
    json_path.write_text(json_path.read_text()[:40])
    with pytest.raises(ConfigFileError, match=rf"{json_path} is not a readable ExperimentConfig[\s\S]*config\.save"):
        run_experiment(moved)
    moved.save(json_path)  # what the message says to do
    run_experiment(moved)
    assert_rows_equal(moved.results_csv, expected)


def test_a_failed_start_leaves_nothing_that_blocks_the_corrected_run(make_config, tmp_path):
    results = tmp_path / "run.csv"
    with pytest.raises(ValueError, match="99"):
        run_experiment(tiny_config(make_config, results, epochs=1, task_options={"labels": [99]}))
    assert not results.exists() and not paths.config_json(results).exists()
    tiny_config(make_config, results, seed=7).save(paths.config_json(results))  # a configuration with no rows
    corrected = tiny_config(make_config, results, epochs=1, task_options={"labels": [0, 1]})
    run_experiment(corrected)
    assert len(pd.read_csv(results)) == 6
    assert ExperimentConfig.load(paths.config_json(results)).seed == 0
    with pytest.raises(PermissionError, match="Cannot write the results"):
        run_experiment(tiny_config(make_config, results.with_suffix(".json") / "x.csv"))


def test_a_second_run_on_the_same_results_is_refused(make_config, tmp_path):
    results = tmp_path / "run.csv"
    with ResultsLock(results):  # as a first run holds it
        with pytest.raises(ResultsLockedError, match=r"being written by another run \(\{\"pid\""):
            run_experiment(tiny_config(make_config, results))
        with pytest.raises(ResultsLockedError, match="being written by another run"):
            run_sequential(SequentialConfig(results_csv=str(results), progress=False))
    assert not paths.config_json(results).exists()


def test_what_cannot_run_is_refused_when_configured(make_config, tmp_path):
    with pytest.raises(ValueError, match=r"measure_every \(3\) is larger than epochs \(2\)"):
        tiny_config(make_config, tmp_path / "r.csv", measure_every=3)
    with pytest.raises(ValueError, match="num_cpus_per_trial must be a number >= 0; got -1"):
        tiny_config(make_config, tmp_path / "r.csv", num_cpus_per_trial=-1)
    config = tiny_config(make_config, tmp_path / "r.csv")
    every = str(TrialsFailedError(config, {0: OSError("a"), 1: OSError("b")}, num_run=2))
    assert "Every trial run failed" in every and "other trials" not in every
    assert "rows of the other trials are in" in str(TrialsFailedError(config, {1: OSError("b")}, num_run=2))


RUN = ("import json, sys; from Experiment import ExperimentConfig, run_experiment; "
       "config = ExperimentConfig.from_dict(json.loads(sys.argv[1])); print('ready', flush=True); "
       "run_experiment(config)")


def test_killed_at_random_moments_then_resumed_gives_the_uninterrupted_rows(whole, tmp_path):
    config, expected, seconds = whole
    killed = ExperimentConfig.from_dict({**config.to_dict(), "results_csv": str(tmp_path / "run.csv")})
    draw = random.Random(12)
    moments = [draw.uniform(0.5, 0.95) * seconds for _ in range(2)]
    for moment in moments:  # SIGKILL somewhere in the run: training, a grid, a checkpoint or a row being written
        process = subprocess.Popen([sys.executable, "-c", RUN, json.dumps(killed.to_dict())], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert process.stdout.readline().strip() == "ready"
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait()
    run_experiment(killed)
    assert_rows_equal(killed.results_csv, expected)
