"""Configuration records shared by the runners: validation helpers for flat dataclasses of plain values, a JSON
round trip, and the check that a resumed run has the configuration its results were made with.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import Schema
from Runs.files import write_atomically


def check_int(name: str, value, minimum: int) -> None:
    """A ValueError unless ``value`` is an integer (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def check_optional_int(name: str, value, minimum: int) -> None:
    """As ``check_int``, but None is allowed (meaning "all")."""
    if value is not None:
        check_int(name, value, minimum)


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
    """

    EXECUTION_FIELDS: tuple[str, ...] = ()

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
        return cls.from_dict(json.loads(Path(path).read_text()))

    def differences(self, other) -> dict[str, tuple]:
        """Fields that change what is measured and differ between ``self`` and ``other``: name -> (self, other)."""
        mine, theirs = _normalised(self.to_dict()), _normalised(other.to_dict())
        return {name: (mine[name], theirs[name]) for name in mine
                if name not in self.EXECUTION_FIELDS and mine[name] != theirs[name]}


def _normalised(values: dict) -> dict:
    return json.loads(json.dumps(values, sort_keys=True))


def check_or_save_config(config: ConfigRecord, results_csv: str | Path) -> None:
    """Save ``config`` beside the results, or check it against the one already there (a clear error if not)."""
    csv_path, json_path = Path(results_csv), Schema.config_path(results_csv)
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
