"""Sign flips: importance(w) = 1 / (1 + number of times w changed sign during training).

Counted per training batch: a flip is a step after which w_t * w_{t-1} < 0 (a step onto or off exactly zero is
not a flip). A weight whose sign settled early is taken to be important; one that keeps crossing zero is not.
Counting starts from the weights as they are when training starts. The count itself is kept in the measure's
state (``get_state()["flips"]``).
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.trackers import TrackedMeasure, WeightTracker
from WeightImportance.base import ImportanceMeasure, as_importances


class SignFlipTracker(WeightTracker):
    accumulator_names = ("flips",)

    def update(self, current, previous, accumulators):
        accumulators["flips"].assign_add(tf.cast(current * previous < 0, tf.float32))


class SignFlips(TrackedMeasure, ImportanceMeasure):
    """importance = 1 / (1 + sign flips per batch). Ignores ``data``. No options."""

    name = "sign_flips"
    needs_data = False
    needs_training = True

    def __init__(self):
        self.tracker = SignFlipTracker(self.name)

    def compute(self, model, data=None):
        flips = self.tracker.accumulated(model)["flips"]
        return as_importances([1.0 / (1.0 + f) for f in flips], model, self.name)
