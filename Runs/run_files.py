"""What a run holds while it writes: its results file, locked and repaired, and the configuration beside it.

Both runners open their files the same way, in this order, and write nothing before ``save_config``:

1. the results folder is created and a temporary file tried in it (``files.check_writable``): a path that cannot
   be written fails now, not after a trial has trained;
2. the lock is taken (``locks.ResultsLock``): a second run on the same CSV is refused, naming the first;
3. a partial last line (a crash while writing a row) is cut (``results.repair_partial_last_line``), so whatever
   reads the file after this point reads whole rows;
4. the recorded configuration (``results/foo.json``) is read and compared with the given one; a ``num_threads``
   of None takes the recorded count, or else the runner's default (``Runs.threads``).

Then the runner validates what it can (it builds its task's data) and calls ``save_config``, the first write.

The recorded configuration protects the rows. While the CSV holds none, a recorded configuration that differs or
cannot be read is replaced, and the checkpoints and saved importances made under it are deleted, so a run that
failed before its first row never blocks the corrected one. Once it holds rows, a different configuration is
refused with the list of differences, and an unreadable one with what to do.

    with RunFiles(config, THRESHOLDING_COLUMNS, "the thresholding runner", default_num_threads=2) as files:
        config = files.config                  # num_threads resolved
        recorded = files.rows()
        ...                                    # validate, e.g. build the task's data
        files.save_config()
        files.writer.append(rows)
"""

from __future__ import annotations

import dataclasses
import glob
import warnings
from pathlib import Path

from Runs import paths
from Runs.checkpoints import remove_checkpoints
from Runs.files import check_writable, remove_leftovers
from Runs.locks import ResultsLock
from Runs.records import ConfigFileError, ConfigRecord
from Runs.results import ResultsWriter, has_rows, read_rows, repair_partial_last_line


class RunFiles:
    """The results CSV of ``config`` and its configuration JSON, held by one run (see the module docstring).

    ``columns`` and ``writer_name`` describe the CSV (``Schema``); ``default_num_threads`` is the thread count a
    new run records when ``config.num_threads`` is None. After entering: ``config`` (``num_threads`` resolved),
    ``has_rows``, ``rows()``, ``writer``; ``save_config()`` before the first row.
    """

    def __init__(self, config: ConfigRecord, columns: tuple[str, ...], writer_name: str,
                 default_num_threads: int | None = None):
        self.config = config
        self.results_csv = Path(config.results_csv)
        self.json_path = paths.config_json(self.results_csv)
        self.columns = tuple(columns)
        self.writer_name = writer_name
        self.default_num_threads = default_num_threads
        self.has_rows = False
        self.writer: ResultsWriter | None = None
        self._lock = ResultsLock(self.results_csv)
        self._replace = False

    def __enter__(self) -> RunFiles:
        check_writable(self.results_csv)
        self._lock.acquire()
        try:
            self._open()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._lock.release()

    def rows(self) -> list[dict]:
        """The rows recorded in the CSV (whole rows only)."""
        return read_rows(self.results_csv, self.columns, self.writer_name)

    def save_config(self) -> None:
        """Write the configuration beside the CSV (atomically); where it replaces a different or unreadable one
        (the CSV holding no rows), first delete the checkpoints and saved importances made under that one."""
        if self._replace:
            removed = remove_checkpoints(self.results_csv)
            if removed:
                warnings.warn(f"Deleted {removed} checkpoint and saved importance file(s) under "
                              f"{paths.checkpoint_root(self.results_csv)} and "
                              f"{paths.importances_root(self.results_csv)}: "
                              f"they were made under another configuration (or one no longer recorded) and "
                              f"{self.results_csv} holds no rows.", RuntimeWarning, stacklevel=2)
            self._replace = False
        self.config.save(self.json_path)

    # -- opening -----------------------------------------------------------------------------------------------
    def _open(self) -> None:
        cut = repair_partial_last_line(self.results_csv)
        if cut:
            warnings.warn(f"{self.results_csv} ended in a partial row ({cut} bytes: a run stopped while writing "
                          "it); it was cut, and the row is measured again.", RuntimeWarning, stacklevel=3)
        remove_leftovers(self.json_path.parent, glob.escape(self.json_path.name))
        self.has_rows = has_rows(self.results_csv)
        recorded = self._recorded()
        if hasattr(self.config, "num_threads"):
            self._resolve_num_threads(recorded)
            if recorded is not None and recorded.num_threads is None:  # recorded before the field existed
                recorded = dataclasses.replace(recorded, num_threads=self.config.num_threads)
        if recorded is not None:
            differences = self.config.differences(recorded)
            if differences and self.has_rows:
                lines = "\n".join(f"  {name}: given {given!r}, recorded {value!r}"
                                  for name, (given, value) in sorted(differences.items()))
                raise ValueError(
                    f"{self.results_csv} holds results of a different configuration ({self.json_path}). "
                    f"Differences:\n{lines}\nUse another results_csv for this configuration, or the recorded values "
                    "to resume."
                )
            self._replace = bool(differences)
        self.writer = ResultsWriter(self.results_csv, self.columns)

    def _recorded(self) -> ConfigRecord | None:
        """The recorded configuration, or None where there is none or it may be replaced (no rows)."""
        if not self.json_path.exists():
            if self.has_rows:
                raise ValueError(
                    f"{self.results_csv} exists but its configuration {self.json_path} does not, so the runner cannot "
                    "tell whether its rows belong to this configuration. Move the file away or choose another "
                    "results_csv."
                )
            self._replace = True  # checkpoints without a recorded configuration belong to none
            return None
        try:
            return type(self.config).load(self.json_path)
        except ConfigFileError as error:
            if not self.has_rows:
                self._replace = True
                return None
            raise ConfigFileError(
                f"{error} It records the configuration that produced the rows of {self.results_csv}, so they cannot "
                f"be checked against this one. If this configuration produced them, write it there "
                f"(config.save({str(self.json_path)!r})) and run again; otherwise move {self.results_csv}, "
                f"{self.json_path} and {paths.checkpoint_root(self.results_csv)} away, or choose another "
                "results_csv."
            ) from error

    def _resolve_num_threads(self, recorded: ConfigRecord | None) -> None:
        if self.config.num_threads is not None:
            return
        count = getattr(recorded, "num_threads", None) or self.default_num_threads
        if count is not None:
            self.config = dataclasses.replace(self.config, num_threads=count)
