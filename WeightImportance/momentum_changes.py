"""Momentum changes: importance(w) = 1 / (1 + number of times the direction of w's update reversed).

With Δ_t = w_t - w_{t-1} the change made by training batch t, a reversal is a step whose Δ_t has the opposite sign
of the last non-zero step before it. Steps with Δ_t = 0 neither count nor reset the direction. A weight that
keeps moving one way is taken to be important; one that oscillates is not. Counting starts from the weights as
they are when training starts, and the last direction carries over between ``fit`` calls.
"""

from __future__ import annotations

import tensorflow as tf

from WeightImportance._internal.trackers import TrackedMeasure, WeightTracker
from WeightImportance.base import ImportanceMeasure, as_importances


class MomentumChangeTracker(WeightTracker):
    accumulator_names = ("reversals", "direction")

    def update(self, current, previous, accumulators):
        step = tf.sign(current - previous)
        direction = accumulators["direction"]
        accumulators["reversals"].assign_add(tf.cast(step * direction < 0, tf.float32))
        direction.assign(tf.where(step != 0, step, direction))


class MomentumChanges(TrackedMeasure, ImportanceMeasure):
    """importance = 1 / (1 + reversals of the update direction). Ignores ``data``. No options."""

    name = "momentum_changes"
    needs_data = False
    needs_training = True

    def __init__(self):
        self.tracker = MomentumChangeTracker(self.name)

    def compute(self, model, data=None):
        reversals = self.tracker.accumulated(model)["reversals"]
        return as_importances([1.0 / (1.0 + r) for r in reversals], model, self.name)
