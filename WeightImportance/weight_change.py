"""Weight change: importance(w) = 1 / (1 + total distance w travelled during training).

The distance is the sum of absolute per-batch changes, D = sum_t |w_t - w_{t-1}|: the path length, not the net
displacement |w_T - w_0| (a weight that oscillates travels far but ends where it began). A weight that barely
moved is taken to be important. Counting starts from the weights as they are when training starts.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.trackers import TrackedMeasure, WeightTracker
from WeightImportance.base import ImportanceMeasure, as_importances


class WeightChangeTracker(WeightTracker):
    accumulator_names = ("distance",)

    def update(self, current, previous, accumulators):
        accumulators["distance"].assign_add(tf.abs(current - previous))


class WeightChange(TrackedMeasure, ImportanceMeasure):
    """importance = 1 / (1 + sum_t |Δw_t|). Ignores ``data``. No options."""

    name = "weight_change"
    needs_data = False
    needs_training = True

    def __init__(self):
        self.tracker = WeightChangeTracker(self.name)

    def compute(self, model, data=None):
        distance = self.tracker.accumulated(model)["distance"]
        return as_importances([1.0 / (1.0 + d) for d in distance], model, self.name)
