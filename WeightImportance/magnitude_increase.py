"""Magnitude increase: how much larger a weight has grown since training started.

    importance(w) = |w_T| - |w_0|

(Zhou, Lan, Liu & Yosinski 2019, "Deconstructing Lottery Tickets: Zeros, Signs, and the Supermask", the "magnitude
increase" mask criterion). w_0 is the weights when tracking first starts (the first ``on_train_begin``; kept across
successive ``fit`` calls), w_T the weights at ``compute`` time. Weights that shrank score below zero. Nothing is
computed per batch. The state is ``{"initial"}``. Ignores ``data``. No options.
"""

from __future__ import annotations

import numpy as np

from WeightImportance._internal.gradient_trackers import InitialWeightsTracker
from WeightImportance._internal.trackers import TrackedMeasure
from WeightImportance.base import ImportanceMeasure, as_importances, check_model


class MagnitudeIncreaseTracker(InitialWeightsTracker):
    accumulator_names = ("initial",)

    def update(self, current, previous, accumulators):
        """Nothing accumulates per batch: only w_0 is kept."""

    def on_train_batch_end(self, batch, logs=None):
        self.num_updates += 1


class MagnitudeIncrease(TrackedMeasure, ImportanceMeasure):
    """importance = |w_T| - |w_0|. No options."""

    name = "magnitude_increase"
    needs_data = False
    needs_training = True

    def __init__(self):
        self.tracker = MagnitudeIncreaseTracker(self.name)

    def compute(self, model, data=None):
        weights = check_model(model)
        initial = self.tracker.accumulated(model)["initial"]
        return as_importances([np.abs(np.asarray(w, np.float64)) - np.abs(w0) for w, w0 in zip(weights, initial)],
                              model, self.name)
