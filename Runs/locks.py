"""The lock a run holds on its results file, so that two runs never write the same CSV at once.

It is an advisory ``fcntl.flock`` on ``results/foo.csv.lock`` (``Runs.paths.lock_file``) beside the CSV. The
kernel releases it when the holding process ends, however it ends (SIGKILL, a crashed kernel), so a lock is never
left stale and nothing needs cleaning up; the file itself stays, empty once released. The holder writes its pid,
host and start time into the file, and a run refused the lock quotes them. The file descriptor is not inherited by
child processes (Python's default), so a process the holder started does not keep the lock alive after it ends.

Advisory: only runs of this toolkit take it. Across machines it holds on file systems whose ``flock`` is shared by
every client (NFS v4, CephFS, Lustre with ``flock`` mounts); on others each machine sees only its own locks.
Where ``fcntl`` does not exist (Windows) there is no lock and a warning says so.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import warnings
from pathlib import Path

from Runs import paths

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


class ResultsLockedError(RuntimeError):
    """Another run holds the results file."""


class ResultsLock:
    """The lock on ``results_csv``, taken by ``acquire`` (or ``with``) and released by ``release``.

    ``acquire`` never waits: if another run (in this process or another) holds the lock it raises
    ``ResultsLockedError`` naming that run.
    """

    def __init__(self, results_csv: str | Path):
        self.results_csv = Path(results_csv)
        self.path = paths.lock_file(results_csv)
        self._handle = None

    def acquire(self) -> ResultsLock:
        if fcntl is None:
            warnings.warn(f"No file locks on {sys.platform}: nothing stops a second run from writing "
                          f"{self.results_csv} at the same time as this one.", RuntimeWarning, stacklevel=2)
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "a run that wrote nothing about itself"
            handle.close()
            raise ResultsLockedError(
                f"{self.results_csv} is being written by another run ({holder}; lock {self.path}). Two runs on one "
                "results file would write every row twice. Wait for that run to end (its lock goes with its "
                "process), or choose another results_csv."
            ) from None
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds")})
                     + "\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            self._handle.truncate(0)
            self._handle.flush()
        finally:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> ResultsLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()
