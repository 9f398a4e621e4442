"""The registry of weight importance measures: the external interface of this package.

Adding a measure is one new module defining an ``ImportanceMeasure`` subclass and one line here.
"""

from __future__ import annotations

import inspect

from WeightImportance.base import ImportanceMeasure
from WeightImportance.fisher import Fisher
from WeightImportance.gradient_magnitude import GradientMagnitude
from WeightImportance.grasp import GraSP
from WeightImportance.inverse_magnitude import InverseMagnitude
from WeightImportance.lamp import LAMP
from WeightImportance.magnitude import Magnitude
from WeightImportance.magnitude_increase import MagnitudeIncrease
from WeightImportance.mas import MAS
from WeightImportance.momentum_changes import MomentumChanges
from WeightImportance.movement import Movement
from WeightImportance.obd import OBD
from WeightImportance.oracle import Oracle
from WeightImportance.random import Random
from WeightImportance.si import SI
from WeightImportance.sign_flips import SignFlips
from WeightImportance.snip import SNIP
from WeightImportance.synflow import SynFlow
from WeightImportance.taylor import Taylor
from WeightImportance.weight_change import WeightChange

registered_measures: dict[str, type[ImportanceMeasure]] = {
    "random": Random,
    "magnitude": Magnitude,
    "inverse_magnitude": InverseMagnitude,
    "fisher": Fisher,
    "sign_flips": SignFlips,
    "momentum_changes": MomentumChanges,
    "weight_change": WeightChange,
    "gradient_magnitude": GradientMagnitude,
    "snip": SNIP,
    "taylor": Taylor,
    "obd": OBD,
    "mas": MAS,
    "grasp": GraSP,
    "synflow": SynFlow,
    "lamp": LAMP,
    "si": SI,
    "movement": Movement,
    "magnitude_increase": MagnitudeIncrease,
    "oracle": Oracle,
}


def available_measures() -> list[str]:
    """The registry keys of every measure, sorted."""
    return sorted(registered_measures)


def measure_class(name: str) -> type[ImportanceMeasure]:
    """The class of the measure registered as ``name``: its ``needs_*`` declarations, read without building it."""
    if name not in registered_measures:
        raise ValueError(f"Unknown measure {name!r}; valid measures: {available_measures()}.")
    return registered_measures[name]


def measure_options(name: str) -> list[str]:
    """The options ``get_measure(name, ...)`` accepts."""
    cls = measure_class(name)
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


def get_measure(name: str, **options) -> ImportanceMeasure:
    """A new measure object by registry key, configured with its options."""
    cls = measure_class(name)
    valid = measure_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for measure {name!r}; valid options: {valid or 'none'}.")
    return cls(**options)
