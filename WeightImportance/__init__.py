"""Weight importance measures behind one contract and a registry.

    from WeightImportance import available_measures, get_measure
    measure = get_measure("fisher", labels="sampled")
    model.fit(..., callbacks=measure.callbacks())
    importances = measure.compute(model, (x, y))   # one array per model.trainable_weights entry
"""

from WeightImportance.base import ImportanceMeasure
from WeightImportance.registry import available_measures, get_measure, measure_options, registered_measures

__all__ = ["ImportanceMeasure", "available_measures", "get_measure", "measure_options", "registered_measures"]
