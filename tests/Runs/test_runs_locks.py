"""The results lock: a second run is refused at once, naming the first; the lock goes with its process."""

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


def test_a_second_holder_is_refused_naming_the_first(tmp_path):
    results = tmp_path / "r.csv"
    with ResultsLock(results) as first:
        holder = json.loads(first.path.read_text())
        assert holder["pid"] == os.getpid() and holder["host"] and holder["started"]
        with pytest.raises(ResultsLockedError, match=rf"being written by another run \(.*\"pid\": {os.getpid()}"):
            ResultsLock(results).acquire()
    with ResultsLock(results):  # released
        pass


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
