"""The registry of weight importance measures: the external interface of this package.

Adding a measure is one new module defining an ``ImportanceMeasure`` subclass and one line here.
"""

from __future__ import annotations

import inspect

from WeightImportance.base import ImportanceMeasure
from WeightImportance.fisher import Fisher
from WeightImportance.inverse_magnitude import InverseMagnitude
from WeightImportance.magnitude import Magnitude
from WeightImportance.momentum_changes import MomentumChanges
from WeightImportance.random import Random
from WeightImportance.sign_flips import SignFlips
from WeightImportance.weight_change import WeightChange

registered_measures: dict[str, type[ImportanceMeasure]] = {
    "random": Random,
    "magnitude": Magnitude,
    "inverse_magnitude": InverseMagnitude,
    "fisher": Fisher,
    "sign_flips": SignFlips,
    "momentum_changes": MomentumChanges,
    "weight_change": WeightChange,
}


def available_measures() -> list[str]:
    """The registry keys of every measure, sorted."""
    return sorted(registered_measures)


def measure_options(name: str) -> list[str]:
    """The options ``get_measure(name, ...)`` accepts."""
    cls = _lookup(name)
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def _lookup(name: str) -> type[ImportanceMeasure]:
    if name not in registered_measures:
        raise ValueError(f"Unknown measure {name!r}; valid measures: {available_measures()}.")
    return registered_measures[name]


def get_measure(name: str, **options) -> ImportanceMeasure:
    """A new measure object by registry key, configured with its options."""
    cls = _lookup(name)
    valid = measure_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for measure {name!r}; valid options: {valid or 'none'}.")
    return cls(**options)
