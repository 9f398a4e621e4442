"""Weight importance measures behind one contract and a registry.

    from WeightImportance import available_measures, get_measure
    measure = get_measure("fisher", labels="sampled")
    model.fit(..., callbacks=measure.callbacks())
    importances = measure.compute(model, (x, y))   # one array per model.trainable_weights entry

A runner reads what a measure needs from its class, without building it: ``measure_class(name).needs_data``,
``.needs_training``, ``.needs_seed``, ``.needs_groups`` (see ``base.py``).

Importances are kept for later with ``save_importances(path, model, importances, measure=..., options=...,
**metadata)`` and read back with ``load_importances(path, model)`` and ``read_importances_info(path)`` (see
``saved.py``).
"""

from WeightImportance.base import ImportanceMeasure
from WeightImportance.registry import (
    available_measures,
    get_measure,
    measure_class,
    measure_options,
    registered_measures,
)
from WeightImportance.saved import load_importances, read_importances_info, save_importances

__all__ = ["ImportanceMeasure", "available_measures", "get_measure", "load_importances", "measure_class",
           "measure_options", "read_importances_info", "registered_measures", "save_importances"]
