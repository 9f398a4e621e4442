"""The trial runner's Ray backend for the sequential and bridge studies: the rows of the local backend, failures
reported per trial, the resources a trial asks for passed to Ray, and runs that complete after a worker or the
driver is killed with SIGKILL (sequential and bridge studies).

The Ray tests share one local Ray instance with 2 CPUs whose every process listens on the loopback interface only
(``tests/conftest.py``); every trial asks for 1 CPU and runs TensorFlow with 1 thread, and the local runs they are
compared with run in a fresh process with 1 thread.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from Bridge import BridgeConfig, run_bridge
from Bridge import runner as bridge_runner
from Bridge.paths import PARTS, part_csv
from Runs.trials import TrialsFailedError
from Schema import SEQUENTIAL_KEY_COLUMNS, THRESHOLDING_KEY_COLUMNS
from SequentialLearning import SequentialConfig, run_sequential
from SequentialLearning import runner as sequential_runner

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ["none", "uniform", "magnitude"]
ROWS_PER_RUN = 3  # 2 tasks: (trained 0, evaluated 0), (1, 0), (1, 1)
ROWS_PER_TRIAL = len(MEASURES) * ROWS_PER_RUN  # one λ
BRIDGE_RUNS_PER_TRIAL = 4  # none, uniform, random and magnitude, at one λ
# The same loopback-only local Ray as the module's, for a driver run in its own process.
INIT_RAY = ("import ray, ray._private.ray_constants as constants; constants.ENABLE_RAY_CLUSTER = False; "
            "ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, _node_ip_address='127.0.0.1', "
            "object_store_memory=100 * 1024**2); ")
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


def sequential_config(results_csv, **changes) -> SequentialConfig:
    values = dict(task="digits", sequence="split", num_tasks=2, model="mlp:16", seed=0, num_trials=2, epochs=1,
                  measures=MEASURES, ewc_lambdas=[1.0], num_train_examples=60, num_validation_examples=40,
                  num_importance_examples=30, num_threads=1, num_cpus_per_trial=1, progress=False,
                  results_csv=str(results_csv))
    values.update(changes)
    return SequentialConfig(**values)


def bridge_config(results_dir, **changes) -> BridgeConfig:
    values = dict(task="digits", sequence="permuted", num_tasks=2, model="mlp:16", seed=0, num_trials=2, epochs=1,
                  measures=["magnitude"], aggregation_levels=["weight"], orders=["least"], num_thresholds=3,
                  ewc_lambdas=[1.0], lambda_extension_factor=None, num_train_examples=60, num_selection_examples=30,
                  num_validation_examples=40, num_importance_examples=30, num_threads=1, num_cpus_per_trial=1,
                  progress=False, results_dir=str(results_dir))
    values.update(changes)
    return BridgeConfig(**values)


def python_code(config, prefix: str = "") -> str:
    """Code that runs ``config`` (a ``SequentialConfig`` or ``BridgeConfig``) in a fresh process."""
    package, run = ("Bridge", "run_bridge") if isinstance(config, BridgeConfig) else ("SequentialLearning",
                                                                                       "run_sequential")
    return (f"{prefix}import json; from {package} import {type(config).__name__} as Config, {run} as run; "
            f"run(Config.from_dict(json.loads({json.dumps(json.dumps(config.to_dict()))})))")


def process_env(num_threads: int = 1) -> dict:
    return {**os.environ, **RAY_ENV, "TF_NUM_INTRAOP_THREADS": str(num_threads), "PYTHONPATH": str(ROOT),
            "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_local_in_a_fresh_process(config) -> None:
    """The local backend at 1 TensorFlow thread, whatever this process's TensorFlow uses."""
    local = type(config).from_dict({**config.to_dict(), "backend": "local"})
    subprocess.run([sys.executable, "-c", python_code(local)], cwd=ROOT, env=process_env(), check=True)


def rows_of(path, keys) -> pd.DataFrame:
    return pd.read_csv(path).sort_values(list(keys)).reset_index(drop=True)


def assert_same_rows(actual_csv, expected_csv, keys) -> None:
    """The two CSVs hold the same set of rows (no key twice), floats equal to 1e-12."""
    actual, expected = rows_of(actual_csv, keys), rows_of(expected_csv, keys)
    assert not actual.duplicated(list(keys)).any()
    assert list(actual.columns) == list(expected.columns) and len(actual) == len(expected)
    numbers = [c for c in actual.columns if pd.api.types.is_float_dtype(expected[c])]
    others = [c for c in actual.columns if c not in numbers]
    pd.testing.assert_frame_equal(actual[others], expected[others])
    np.testing.assert_allclose(actual[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=0,
                               atol=1e-12)


@pytest.fixture(scope="module")
def sequential_reference(tmp_path_factory):
    """The CSV of the sequential configuration run locally, uninterrupted."""
    config = sequential_config(tmp_path_factory.mktemp("local") / "sequential.csv")
    run_local_in_a_fresh_process(config)
    assert len(pd.read_csv(config.results_csv)) == 2 * ROWS_PER_TRIAL
    return config.results_csv


# -- the rows of the local backend ----------------------------------------------------------------------------------
def test_sequential_on_ray_gives_the_local_rows(local_ray, sequential_reference, tmp_path):
    config = sequential_config(tmp_path / "ray.csv", backend="ray")
    assert run_sequential(config) == Path(config.results_csv)
    assert_same_rows(config.results_csv, sequential_reference, SEQUENTIAL_KEY_COLUMNS)
    assert json.loads(Path(config.results_csv).with_suffix(".json").read_text())["num_threads"] == 1


@pytest.fixture(scope="module")
def bridge_reference(tmp_path_factory):
    """The folder of the bridge configuration run locally, uninterrupted."""
    config = bridge_config(tmp_path_factory.mktemp("local") / "bridge")
    run_local_in_a_fresh_process(config)
    return config.results_dir


def assert_same_study(actual_dir, expected_dir) -> None:
    for part in PARTS:
        keys = THRESHOLDING_KEY_COLUMNS if part == "thresholding" else SEQUENTIAL_KEY_COLUMNS
        assert set(pd.read_csv(part_csv(actual_dir, part)).trial) == {0, 1}
        assert_same_rows(part_csv(actual_dir, part), part_csv(expected_dir, part), keys)
    assert not list(Path(actual_dir).glob("*_checkpoints/**/*.npz"))  # task A's checkpoints deleted


def test_bridge_on_ray_gives_the_local_rows(local_ray, bridge_reference, tmp_path):
    on_ray = bridge_config(tmp_path / "ray", backend="ray")
    assert run_bridge(on_ray) == Path(on_ray.results_dir)
    assert_same_study(on_ray.results_dir, bridge_reference)


def test_the_execution_fields_are_checked_in_every_study(tmp_path):
    from Runs.trials import default_num_threads

    assert default_num_threads("ray", 2.5) == 3 and default_num_threads("ray", 0.5) == 1
    with pytest.raises(ValueError, match=r"Unknown backend 'spark'; valid: \['local', 'ray'\]"):
        sequential_config(tmp_path / "s.csv", backend="spark")
    with pytest.raises(ValueError, match="num_gpus_per_trial above 1 must be a whole number"):
        bridge_config(tmp_path / "b", num_gpus_per_trial=1.5)


# -- failures and resources ---------------------------------------------------------------------------------------
def test_a_failing_trial_is_reported_and_the_other_completes(local_ray, sequential_reference, tmp_path,
                                                             monkeypatch):
    original = sequential_runner.sequential_trial

    def failing_trial(config, trial, sinks, done):  # pickled by value: it lives in no module a worker imports
        if trial == 0:
            raise OSError("trial 0 cannot read its data")
        original(config, trial, sinks, done)

    monkeypatch.setattr(sequential_runner, "sequential_trial", failing_trial)
    config = sequential_config(tmp_path / "ray.csv", backend="ray")
    with pytest.raises(TrialsFailedError, match=r"1 trial\(s\) failed[\s\S]*trial 0 \(seed 0\): OSError: trial 0 "
                                                r"cannot read its data") as failed:
        run_sequential(config)
    assert list(failed.value.failures) == [0]
    rows = pd.read_csv(config.results_csv)
    assert set(rows.trial) == {1} and len(rows) == ROWS_PER_TRIAL

    monkeypatch.setattr(sequential_runner, "sequential_trial", original)
    run_sequential(config)  # runs trial 0 only
    assert_same_rows(config.results_csv, sequential_reference, SEQUENTIAL_KEY_COLUMNS)


def test_the_resources_per_trial_are_passed_to_ray_and_set_the_threads(local_ray, tmp_path, monkeypatch):
    from Runs import ray_trials

    asked, remote = [], local_ray.remote

    class Recorded:  # the task's .options(...) recorded, then run without the GPU this machine lacks
        def __init__(self, function):
            self.function = function

        def options(self, **options):
            asked.append(options)
            return remote(self.function).options(**{**options, "num_gpus": 0})

    monkeypatch.setattr(local_ray, "remote", lambda f: Recorded(f) if f is ray_trials.run_trial_task else remote(f))
    monkeypatch.setattr(ray_trials, "check_cluster", lambda ray, cpus, gpus: None)
    config = sequential_config(tmp_path / "gpu.csv", backend="ray", num_trials=1, measures=["none"],
                               num_threads=None, num_cpus_per_trial=1.5, num_gpus_per_trial=0.5)
    run_sequential(config)
    assert len(asked) == 1
    assert asked[0]["num_cpus"] == 1.5 and asked[0]["num_gpus"] == 0.5
    # a new run with num_threads=None: ceil(num_cpus_per_trial) threads, recorded and given to the worker
    assert asked[0]["runtime_env"]["env_vars"]["TF_NUM_INTRAOP_THREADS"] == "2"
    assert json.loads(Path(config.results_csv).with_suffix(".json").read_text())["num_threads"] == 2
    assert len(pd.read_csv(config.results_csv)) == ROWS_PER_RUN


# -- SIGKILL ----------------------------------------------------------------------------------------------------------
def test_a_worker_killed_mid_trial_is_retried_and_the_run_equals_an_uninterrupted_one(
        local_ray, sequential_reference, tmp_path, monkeypatch):
    original = sequential_runner.sequential_trial
    kill_after = random.Random(20).randint(1, len(MEASURES) - 1)  # runs sent before the worker dies
    marker = tmp_path / "killed"

    def killed_once(config, trial, sinks, done):  # pickled by value: it lives in no module a worker imports
        if trial == 1 and not marker.exists():
            sinks = {"results": killing_sink(sinks["results"], kill_after, marker)}
        original(config, trial, sinks, done)

    monkeypatch.setattr(sequential_runner, "sequential_trial", killed_once)
    config = sequential_config(tmp_path / "ray.csv", backend="ray")
    run_sequential(config)
    assert marker.exists(), "the worker was not killed"
    assert_same_rows(config.results_csv, sequential_reference, SEQUENTIAL_KEY_COLUMNS)  # each row once


def test_a_killed_driver_then_a_rerun_equals_an_uninterrupted_run(local_ray, sequential_reference, tmp_path):
    config = sequential_config(tmp_path / "ray.csv", backend="ray")
    kill_at = random.Random(21).randint(1, 2 * len(MEASURES) - 1) * ROWS_PER_RUN  # rows written before the kill
    kill_driver_after_rows(config, config.results_csv, kill_at)
    written = num_rows(config.results_csv)
    assert kill_at <= written < 2 * ROWS_PER_TRIAL, "the driver was killed after the run was complete"
    run_sequential(config)  # the lock went with the driver; only the missing runs are made
    assert_same_rows(config.results_csv, sequential_reference, SEQUENTIAL_KEY_COLUMNS)


def test_a_bridge_worker_killed_mid_trial_is_retried_and_the_study_equals_an_uninterrupted_one(
        local_ray, bridge_reference, tmp_path, monkeypatch):
    original = bridge_runner.run_trial
    kill_after = random.Random(22).randint(1, BRIDGE_RUNS_PER_TRIAL - 1)  # EWC runs sent before the worker dies
    marker = tmp_path / "killed"

    def killed_once(config, trial, sinks, done, **options):  # pickled by value, as above
        if trial == 1 and not marker.exists():
            sinks = {**sinks, "sequential": killing_sink(sinks["sequential"], kill_after, marker)}
        original(config, trial, sinks, done, **options)

    monkeypatch.setattr(bridge_runner, "run_trial", killed_once)
    config = bridge_config(tmp_path / "ray", backend="ray")
    run_bridge(config)
    assert marker.exists(), "the worker was not killed"
    assert_same_study(config.results_dir, bridge_reference)  # each row once, in every part


def test_a_killed_bridge_driver_then_a_rerun_equals_an_uninterrupted_study(local_ray, bridge_reference, tmp_path):
    config = bridge_config(tmp_path / "ray", backend="ray")
    # A trial's thresholding rows come before its EWC runs, which take longer: the kill comes after a seeded number
    # of thresholding rows (6 per trial: random and magnitude at 3 thresholds), while EWC runs are still missing.
    sequential, thresholding = (part_csv(config.results_dir, part) for part in ("sequential", "thresholding"))
    total = 2 * BRIDGE_RUNS_PER_TRIAL * ROWS_PER_RUN
    kill_at = random.Random(23).randint(1, 2 * 6 - 1)
    kill_driver_after_rows(config, thresholding, kill_at)
    assert num_rows(sequential) < total, "the driver was killed after the study was complete"
    run_bridge(config)  # the locks went with the driver; only what is missing is made
    assert_same_study(config.results_dir, bridge_reference)


def killing_sink(results, kill_after: int, marker: Path):
    """A sink that passes rows on to ``results`` and, once it has passed ``kill_after`` batches, writes ``marker``
    and kills its own process with SIGKILL (on a Ray worker: the worker dies mid-trial)."""
    sent = []

    def sink(rows):
        results(rows)
        sent.append(len(rows))
        if len(sent) == kill_after:
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)

    return sink


def kill_driver_after_rows(config, watched, count: int) -> None:
    """Run ``config`` on Ray from a driver in its own process and kill it with SIGKILL once the CSV ``watched``
    holds ``count`` rows; then end what is left of its session."""
    driver = subprocess.Popen([sys.executable, "-c", python_code(config, prefix=INIT_RAY)], cwd=ROOT,
                              env=process_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 400
        while num_rows(watched) < count:
            assert driver.poll() is None, f"the driver ended (code {driver.returncode}) before it was killed"
            assert time.monotonic() < deadline, "no rows from the driver in time"
            time.sleep(0.2)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        with_group_ended(driver.pid)


def num_rows(path) -> int:
    path = Path(path)
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


def with_group_ended(group: int) -> None:
    """End what is left of the killed driver's session (its Ray processes), which this test started."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
