"""Persistence shared by the runners: a configuration saved as JSON beside its results and checked on resume,
and a tidy CSV that rows are appended to and flushed.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path


class ConfigRecord:
    """Mixin for a flat configuration dataclass: JSON round trip and the fields that differ from another.

    ``EXECUTION_FIELDS`` names the fields that say how to run, not what is measured; they may differ on resume.
    """

    EXECUTION_FIELDS: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, values: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"Unknown configuration field(s) {unknown}; valid: {sorted(names)}.")
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path):
        return cls.from_dict(json.loads(Path(path).read_text()))

    def differences(self, other) -> dict[str, tuple]:
        """Fields that change what is measured and differ between ``self`` and ``other``: name -> (self, other)."""
        mine, theirs = _normalised(self.to_dict()), _normalised(other.to_dict())
        return {name: (mine[name], theirs[name]) for name in mine
                if name not in self.EXECUTION_FIELDS and mine[name] != theirs[name]}


def _normalised(values: dict) -> dict:
    return json.loads(json.dumps(values, sort_keys=True))


def check_or_save_config(config: ConfigRecord, csv_path: Path, json_path: Path) -> None:
    """Save ``config`` beside the results, or check it against the one already there (a clear error if not)."""
    if json_path.exists():
        differences = config.differences(type(config).load(json_path))
        if differences:
            lines = "\n".join(f"  {name}: given {given!r}, recorded {recorded!r}"
                              for name, (given, recorded) in sorted(differences.items()))
            raise ValueError(
                f"{csv_path} holds results of a different configuration ({json_path}). Differences:\n{lines}\n"
                "Use another results_csv for this configuration, or the recorded values to resume."
            )
    elif csv_path.exists() and csv_path.stat().st_size > 0:
        raise ValueError(
            f"{csv_path} exists but its configuration {json_path} does not, so the runner cannot tell whether its "
            "rows belong to this configuration. Move the file away or choose another results_csv."
        )
    config.save(json_path)


class CSVAppender:
    """Appends rows with the columns ``COLUMNS`` to a CSV, writing the header once, and flushes after every call."""

    COLUMNS: tuple[str, ...] = ()

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_partial_last_line()

    def _repair_partial_last_line(self) -> None:
        """A crash while writing can leave half a row: cut it so the file stays a valid CSV."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if not data.endswith(b"\n"):
            self.path.write_bytes(data[: data.rfind(b"\n") + 1])

    def append(self, rows: list[dict]) -> None:
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.COLUMNS)
            if new_file:
                writer.writeheader()
            for row in rows:
                writer.writerow({k: _format(row[k]) for k in self.COLUMNS})
            handle.flush()


def _format(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return value
