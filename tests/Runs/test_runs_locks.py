"""The results lock: a second run is refused at once, naming the first; the lock goes with its process, and not
with a child that process forked."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from Runs.locks import ResultsLock, ResultsLockedError

ROOT = Path(__file__).resolve().parents[2]
HOLD = ("import sys, time; from Runs.locks import ResultsLock; lock = ResultsLock(sys.argv[1]).acquire(); "
        "print('held', flush=True); time.sleep(120)")
# Takes the lock, forks a child that lives on (printing its pid), and ends without releasing the lock.
HOLD_AND_FORK = ("import os, sys, time; from Runs.locks import ResultsLock; lock = ResultsLock(sys.argv[1]).acquire()\n"
                 "child = os.fork()\n"
                 "if child == 0:\n"
                 "    time.sleep(120); os._exit(0)\n"
                 "print(child, flush=True)\n")


def _refused_elsewhere(results) -> bool:
    """Whether a run in another process is refused the lock on ``results``."""
    probe = subprocess.run([sys.executable, "-c", "import sys; from Runs.locks import ResultsLock, ResultsLockedError\n"
                            "try:\n    ResultsLock(sys.argv[1]).acquire()\nexcept ResultsLockedError:\n"
                            "    sys.exit(3)\n", str(results)], cwd=ROOT)
    assert probe.returncode in (0, 3)
    return probe.returncode == 3


def test_a_second_holder_is_refused_naming_the_first(tmp_path):
    results = tmp_path / "r.csv"
    with ResultsLock(results) as first:
        holder = json.loads(first.path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] and holder["started"]
        with pytest.raises(ResultsLockedError, match=rf"being written by another run \(.*\"pid\": {os.getpid()}"):
            ResultsLock(results).acquire()
    with ResultsLock(results):  # released
        pass


def test_a_refusal_in_the_holding_process_leaves_the_lock_held(tmp_path):
    # POSIX record locks are the process's: a second open-and-close of the lock file in the holding process would
    # release the first holder's lock. The refusal must not touch the file, and must see through another spelling.
    (tmp_path / "sub").mkdir()
    results = tmp_path / "sub" / "r.csv"
    (tmp_path / "link").symlink_to(tmp_path / "sub")
    with ResultsLock(results) as first:
        for spelling in (results, tmp_path / "link" / "r.csv", tmp_path / "sub" / ".." / "sub" / "r.csv"):
            with pytest.raises(ResultsLockedError, match="being written by another run"):
                ResultsLock(spelling).acquire()
        assert first.held and _refused_elsewhere(results)
    assert not first.held and not _refused_elsewhere(results)


def test_a_child_the_holder_forked_does_not_keep_the_lock(tmp_path):
    results = tmp_path / "r.csv"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_FORK, str(results)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    child = int(holder.stdout.readline())
    try:
        assert holder.wait(timeout=60) == 0  # the holder ended without releasing; its child lives on
        os.kill(child, 0)
        with ResultsLock(results) as lock:
            assert json.loads(lock.path.read_text())["pid"] == os.getpid()
        os.kill(child, 0)  # still alive while the lock was taken
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_forked_child_of_this_process_is_refused_while_the_parent_holds_the_lock(tmp_path):
    results = tmp_path / "r.csv"
    with ResultsLock(results) as lock:
        child = os.fork()
        if child == 0:  # the child holds nothing: its own attempt is refused by the kernel, naming the parent
            try:
                code = 5 if lock.held else 0
                ResultsLock(results).acquire()
                code = code or 4
            except ResultsLockedError as error:
                code = code or (0 if f'"pid": {os.getppid()}' in str(error) else 6)
            except BaseException:
                code = 7
            lock.release()  # a forked copy: must leave the parent's lock and its file alone
            os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert lock.held and _refused_elsewhere(results)
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()


def test_the_lock_goes_with_a_killed_process(tmp_path):
    results = tmp_path / "r.csv"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(results)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ResultsLockedError, match=rf"\"pid\": {holder.pid}"):
            ResultsLock(results).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with ResultsLock(results):
        pass
