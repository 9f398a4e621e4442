"""Running trials: failures are reported per trial on both backends, and the Ray backend gives the local rows.

The Ray tests start one local Ray instance with 2 CPUs whose every process listens on the loopback interface only.
"""

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from Experiment import COLUMNS, TrialsFailedError, run_trials
from Runs import paths
from Schema import THRESHOLDING_KEY_COLUMNS as KEY_COLUMNS

ROWS_PER_TRIAL = 6  # 1 epoch x (random, magnitude) x level weight x 3 thresholds
FLOAT_COLUMNS = ["threshold", "fraction_removed", "loss", "accuracy", "val_loss", "val_accuracy", "chance_val_loss"]


def tiny_config(make_config, results_csv, **changes):
    values = dict(epochs=1, measures=["magnitude"], aggregation_levels=["weight"], num_thresholds=3,
                  num_validation_examples=100, num_train_loss_examples=50, num_importance_examples=50)
    return make_config(results_csv, **{**values, **changes})


def block_checkpoints(config, trial) -> Path:
    """A file where the trial's checkpoint folder goes: that trial raises when it saves its first checkpoint."""
    blocker = paths.checkpoint_dir(config.results_csv, trial)
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("")
    return blocker


def sorted_rows(results_csv) -> pd.DataFrame:
    return pd.read_csv(results_csv).sort_values(list(KEY_COLUMNS)).reset_index(drop=True)


def run_local_with_threads(config, num_trials, num_threads):
    """The local backend in a fresh process whose TensorFlow uses ``num_threads`` threads per op.

    The thread count sets the order in which sums are taken; training turns those round-off differences into
    ~0.5% differences of the losses after an epoch, so the backends are compared at the same thread count.
    """
    root = Path(__file__).resolve().parents[2]
    code = ("import json, sys; from Experiment import ExperimentConfig, run_trials; "
            "run_trials(ExperimentConfig.from_dict(json.loads(sys.argv[1])), num_trials=int(sys.argv[2]))")
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": str(num_threads), "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code, json.dumps(config.to_dict()), str(num_trials)], cwd=root, env=env,
                   check=True)


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(actual.columns) == list(COLUMNS)
    exact = [column for column in COLUMNS if column not in FLOAT_COLUMNS]
    pd.testing.assert_frame_equal(actual[exact], expected[exact])
    np.testing.assert_allclose(actual[FLOAT_COLUMNS], expected[FLOAT_COLUMNS], rtol=1e-6, atol=1e-7)


def check_failed_trial_then_resume(config, backend):
    blocker = block_checkpoints(config, 0)
    with pytest.raises(TrialsFailedError, match=r"1 trial\(s\) failed[\s\S]*trial 0 \(seed 0\): FileExistsError"
                       ) as failed:
        run_trials(config, num_trials=2, backend=backend)
    assert list(failed.value.failures) == [0]
    others = sorted_rows(config.results_csv)
    assert sorted(others.trial.unique()) == [1] and len(others) == ROWS_PER_TRIAL

    blocker.unlink()
    run_trials(config, num_trials=2, backend=backend)
    resumed = sorted_rows(config.results_csv)
    assert len(resumed) == 2 * ROWS_PER_TRIAL and not resumed.duplicated(list(KEY_COLUMNS)).any()
    pd.testing.assert_frame_equal(resumed[resumed.trial == 1].reset_index(drop=True), others)


# -- both backends, no Ray needed -------------------------------------------------------------------------------
def test_unknown_backend_lists_the_valid_ones(make_config, tmp_path):
    with pytest.raises(ValueError, match=r"Unknown backend 'spark'; valid: \['local', 'ray'\]"):
        run_trials(tiny_config(make_config, tmp_path / "r.csv"), backend="spark")


def test_missing_ray_says_what_to_install_and_writes_nothing(make_config, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    config = tiny_config(make_config, tmp_path / "r.csv", backend="ray")
    with pytest.raises(ImportError, match=r'backend="ray" needs Ray[\s\S]*pip install -r requirements-ray\.txt'):
        run_trials(config, num_trials=2)
    assert not list(tmp_path.iterdir())


def test_local_failed_trial_is_reported_and_the_others_complete(make_config, tmp_path):
    check_failed_trial_then_resume(tiny_config(make_config, tmp_path / "local.csv"), "local")


def test_a_single_trial_raises_its_own_error(make_config, tmp_path):
    config = tiny_config(make_config, tmp_path / "single.csv")
    block_checkpoints(config, 0)
    with pytest.raises(FileExistsError):
        run_trials(config, num_trials=1)


# -- Ray ----------------------------------------------------------------------------------------------------------
def test_local_ray_listens_on_loopback_only(local_ray):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux /proc to list listening sockets")
    addresses = listening_addresses(descendants(os.getpid()))
    assert addresses, "no listening socket found for the Ray processes"
    assert all(address.is_loopback for address in addresses), addresses


def test_ray_gives_the_rows_of_the_local_backend(local_ray, make_config, tmp_path):
    local = tiny_config(make_config, tmp_path / "local.csv")
    on_ray = tiny_config(make_config, tmp_path / "ray.csv", backend="ray")
    run_local_with_threads(local, num_trials=2, num_threads=1)  # a Ray trial with 1 CPU has 1 TensorFlow thread
    assert run_trials(on_ray, num_trials=2) == Path(on_ray.results_csv)
    assert paths.config_json(on_ray.results_csv).exists()
    assert_same_rows(sorted_rows(on_ray.results_csv), sorted_rows(local.results_csv))


def test_ray_failed_trial_is_reported_and_the_others_complete(local_ray, make_config, tmp_path):
    check_failed_trial_then_resume(tiny_config(make_config, tmp_path / "ray.csv"), "ray")


def test_ray_runs_registered_tasks_and_measures_a_half_written_row_again(local_ray, make_config, tmp_path):
    import Tasks

    def registered_digits(seed=0, **options):  # defined here, so it exists in no module a worker could import
        return Tasks.get_task("digits", seed=seed, **options)

    Tasks.register_task("registered_digits", registered_digits)
    try:
        config = tiny_config(make_config, tmp_path / "ray.csv", task="registered_digits", backend="ray")
        run_trials(config, num_trials=1)
        first = sorted_rows(config.results_csv)
        assert len(first) == ROWS_PER_TRIAL
        for keep in (5, -8):  # a row cut inside the key columns, then one cut in its last value
            lines = Path(config.results_csv).read_text().splitlines(keepends=True)
            Path(config.results_csv).write_text("".join(lines[:-1]) + lines[-1][:keep])
            with pytest.warns(RuntimeWarning, match="ended in a partial row"):
                run_trials(config, num_trials=1)
            pd.testing.assert_frame_equal(sorted_rows(config.results_csv), first, check_exact=False, rtol=0,
                                          atol=1e-12)
    finally:
        Tasks.unregister_task("registered_digits")


def test_ray_worker_killed_after_its_first_epoch_resumes_from_its_checkpoint(local_ray, make_config, tmp_path,
                                                                             monkeypatch):
    import signal

    from Experiment import trials

    original, marker = trials.thresholding_trial, tmp_path / "killed"

    def killed_once(config, trial, sinks, done):  # pickled by value: it lives in no module a worker imports
        checkpoint = paths.checkpoint_file(config.results_csv, trial, 1)
        if trial == 0 and not marker.exists():
            def sink(rows, results=sinks["results"]):
                results(rows)
                marker.write_text(f"checkpoint of epoch 1 when killed: {checkpoint.exists()}\n")
                os.kill(os.getpid(), signal.SIGKILL)  # after the first rows of epoch 1 reached the driver

            sinks = {"results": sink}
        elif trial == 0:
            marker.write_text(marker.read_text() + f"checkpoint of epoch 1 when retried: {checkpoint.exists()}\n")
        original(config, trial, sinks, done)

    local = tiny_config(make_config, tmp_path / "local.csv", epochs=2)
    on_ray = tiny_config(make_config, tmp_path / "ray.csv", epochs=2, backend="ray")
    run_local_with_threads(local, num_trials=2, num_threads=1)
    monkeypatch.setattr(trials, "thresholding_trial", killed_once)
    run_trials(on_ray, num_trials=2)
    assert marker.read_text() == "checkpoint of epoch 1 when killed: True\ncheckpoint of epoch 1 when retried: True\n"
    rows = sorted_rows(on_ray.results_csv)
    assert len(rows) == 2 * 2 * ROWS_PER_TRIAL and not rows.duplicated(list(KEY_COLUMNS)).any()
    assert_same_rows(rows, sorted_rows(local.results_csv))


def test_ray_checks_the_resources_a_trial_asks_for(local_ray, make_config, tmp_path):
    with pytest.raises(ValueError, match="whole number"):
        run_trials(tiny_config(make_config, tmp_path / "a.csv", num_gpus_per_trial=1.5), backend="ray")
    with pytest.raises(ValueError, match=r"No node of the Ray cluster has the 1.0 CPU\(s\) and 1 GPU\(s\)"):
        run_trials(tiny_config(make_config, tmp_path / "b.csv", num_gpus_per_trial=1), backend="ray")


# -- sockets of a process tree, from Linux /proc --------------------------------------------------------------------
def descendants(pid: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def listening_addresses(pids) -> list:
    """The local addresses of the TCP sockets in state LISTEN that ``pids`` hold."""
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:  # the process has ended
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.append(_address(fields[1].split(":")[0]))
    return addresses


def _address(hex_address: str):
    """/proc/net/tcp* write addresses as 32-bit words in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(raw)
    return getattr(address, "ipv4_mapped", None) or address
