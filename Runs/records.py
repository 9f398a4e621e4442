"""Configuration records shared by the runners: validation helpers for flat dataclasses of plain values, a JSON
round trip, and the check that a resumed run has the configuration its results were made with.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from Runs.files import write_atomically


def check_int(name: str, value, minimum: int) -> None:
    """A ValueError unless ``value`` is an integer (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def check_optional_int(name: str, value, minimum: int) -> None:
    """As ``check_int``, but None is allowed (meaning "all")."""
    if value is not None:
        check_int(name, value, minimum)


def check_number(name: str, value, minimum: float) -> None:
    """A ValueError unless ``value`` is a finite number (int or float, not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value < float("inf"):
        raise ValueError(f"{name} must be a number >= {minimum}; got {value!r}.")


def as_list(name: str, value, scalars: tuple[type, ...] = (str,)) -> list:
    """``value`` as a list: a single scalar of the given types becomes a one-element list."""
    if isinstance(value, scalars):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list; got {value!r}.")
    return list(value)


def check_choices(name: str, values: list, valid) -> None:
    """A ValueError if ``values`` is empty or holds a value not in ``valid``, listing the valid ones."""
    if not values:
        raise ValueError(f"{name} is empty; choose from {list(valid)}.")
    bad = [v for v in values if v not in valid]
    if bad:
        raise ValueError(f"Unknown {name} {bad}; valid: {list(valid)}.")


def check_results_csv(value) -> None:
    if not str(value).endswith(".csv"):
        raise ValueError(f"results_csv must be a path ending in .csv; got {value!r}.")


class ConfigRecord:
    """Mixin for a flat configuration dataclass: JSON round trip and the fields that differ from another.

    ``EXECUTION_FIELDS`` names the fields that say how to run, not what is measured; they may differ on resume.
    ``RECORDED_ONLY`` names what is recorded but is not part of the experiment's identity either: where the files
    are (``results_csv``: a moved folder, or ``./x.csv`` for ``x.csv``, is the same run) and where the data were
    read from (the task option ``data_dir``); ``FIELD.KEY`` names a key of a dict field.
    """

    EXECUTION_FIELDS: tuple[str, ...] = ()
    RECORDED_ONLY: tuple[str, ...] = ("results_csv", "task_options.data_dir")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        write_atomically(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, values: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"Unknown configuration field(s) {unknown}; valid: {sorted(names)}.")
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path):
        """The configuration saved in ``path``; a ``ConfigFileError`` naming the file if it cannot be read or is not
        a configuration of this kind (a file cut short, edited by hand, or of another runner)."""
        path = Path(path)
        try:
            values = json.loads(path.read_text())
            if not isinstance(values, dict):
                raise ValueError(f"it holds a {type(values).__name__}, not a JSON object")
            return cls.from_dict(values)
        except (OSError, ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
            raise ConfigFileError(f"{path} is not a readable {cls.__name__} ({type(error).__name__}: {error})."
                                  ) from error

    def differences(self, other) -> dict[str, tuple]:
        """Fields that change what is measured and differ between ``self`` and ``other``: name -> (self, other)."""
        ignored = (*self.EXECUTION_FIELDS, *self.RECORDED_ONLY)
        mine, theirs = _identity(self.to_dict(), ignored), _identity(other.to_dict(), ignored)
        return {name: (mine.get(name), theirs.get(name)) for name in sorted(set(mine) | set(theirs))
                if mine.get(name) != theirs.get(name)}


class ConfigFileError(ValueError):
    """A configuration file that cannot be read."""


def _identity(values: dict, ignored: tuple[str, ...]) -> dict:
    """``values`` as JSON would give them back, without the ``ignored`` fields and ``FIELD.KEY`` dict keys."""
    values = json.loads(json.dumps(values, sort_keys=True))
    for name in ignored:
        field_name, _, key = name.partition(".")
        if not key:
            values.pop(field_name, None)
        elif isinstance(values.get(field_name), dict):
            values[field_name].pop(key, None)
    return values
