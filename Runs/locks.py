"""The lock a run holds on its results file, so that two runs never write the same CSV at once.

It is an advisory POSIX record lock (``fcntl.lockf``, i.e. ``fcntl(F_SETLK)``) on ``results/foo.csv.lock``
(``Runs.paths.lock_file``) beside the CSV. The kernel releases it when the holding process ends, however it ends
(SIGKILL, a crashed kernel), so a lock is never left stale and nothing needs cleaning up; the file itself stays,
empty once released. The holder writes its pid, host and start time into the file, and a run refused the lock
quotes them.

A record lock belongs to the process, not to the open file: a child the holder forks (``os.fork``,
``multiprocessing`` with ``fork``, a data loader's workers) does not hold it, so once the holder ends a new run may
start even while such a child lives (``flock`` locks, by contrast, go with the open file and so with every forked
copy of it). Two consequences of POSIX's rules, which this module takes care of:

- a process never conflicts with its own record locks, so the locks held in this process are also kept in a
  table (by the lock file's device and inode): a second ``ResultsLock`` on the same CSV in the same process is
  refused from that table, as one in another process is refused by the kernel;
- closing *any* descriptor of a file releases every record lock the process holds on it, so the lock file is never
  opened a second time while this process holds it (a refusal quotes the holder from the table, not the file).

Advisory: only runs of this toolkit take it. Across machines it holds on file systems that share POSIX locks
between clients (NFS v3 with its lock manager, NFS v4, CephFS, Lustre, GPFS); on others each machine sees only its
own locks. Where ``fcntl`` does not exist (Windows) there is no lock and a warning says so.
"""

from __future__ import annotations

import datetime
import errno
import json
import os
import socket
import sys
import threading
import warnings
from pathlib import Path

from Runs import paths

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

# The locks this process holds, by (device, inode) of the lock file; a forked child finds its parent's entries
# here and drops them (they are the parent's locks, not its own).
_HELD: dict[tuple[int, int], ResultsLock] = {}
_TABLE = threading.Lock()


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
        self._key: tuple[int, int] | None = None
        self._pid: int | None = None
        self._holder = ""

    def acquire(self) -> ResultsLock:
        if fcntl is None:
            warnings.warn(f"No file locks on {sys.platform}: nothing stops a second run from writing "
                          f"{self.results_csv} at the same time as this one.", RuntimeWarning, stacklevel=2)
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _TABLE:
            _forget_inherited()
            try:
                status = os.stat(self.path)
            except FileNotFoundError:
                pass
            else:
                holder = _HELD.get((status.st_dev, status.st_ino))
                if holder is not None:  # held in this process: opening the file again would release it
                    raise self._refused(holder._holder)
            handle = open(self.path, "a+")
            try:
                fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EACCES, errno.EAGAIN):
                    handle.close()
                    raise
                handle.seek(0)
                holder = handle.read().strip()
                handle.close()  # this process holds no lock on the file, so closing it releases nothing
                raise self._refused(holder) from None
            except BaseException:
                handle.close()
                raise
            try:
                self._holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                           "started": datetime.datetime.now().astimezone().isoformat(
                                               timespec="seconds")})
                handle.seek(0)
                handle.truncate()
                handle.write(self._holder + "\n")
                handle.flush()
                status = os.fstat(handle.fileno())
            except BaseException:
                handle.close()
                raise
            self._handle, self._pid = handle, os.getpid()
            self._key = (status.st_dev, status.st_ino)
            _HELD[self._key] = self
        return self

    def release(self) -> None:
        with _TABLE:
            if self._handle is None:
                return
            if self._pid != os.getpid():  # a forked copy: the lock is the parent's, leave its file alone
                self._drop()
                return
            try:
                self._handle.truncate(0)
                self._handle.flush()
            finally:
                fcntl.lockf(self._handle.fileno(), fcntl.LOCK_UN)
                self._drop()

    @property
    def held(self) -> bool:
        return self._handle is not None and self._pid == os.getpid()

    def _drop(self) -> None:
        """Close the handle and forget the lock (the table's lock is held)."""
        if _HELD.get(self._key) is self:
            del _HELD[self._key]
        self._handle.close()
        self._handle, self._key, self._pid = None, None, None

    def _refused(self, holder: str) -> ResultsLockedError:
        return ResultsLockedError(
            f"{self.results_csv} is being written by another run ({holder or 'a run that wrote nothing about itself'}"
            f"; lock {self.path}). Two runs on one results file would write every row twice. Wait for that run to "
            "end (its lock goes with its process), or choose another results_csv."
        )

    def __enter__(self) -> ResultsLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def _forget_inherited() -> None:
    """Drop the table's entries that a forked child inherited from its parent (the table's lock is held): the
    child holds none of those locks, and closing its copies of their files releases nothing of the parent's."""
    for lock in [lock for lock in _HELD.values() if lock._pid != os.getpid()]:
        lock._drop()
