"""Movement pruning score: how much training pushed each weight away from zero.

    S = -sum_t g_t · w_{t-1}

(Sanh, Wolf & Rush 2020, "Movement Pruning: Adaptive Sparsity by Fine-Tuning", the score S = -sum_t (dL/dW)^(t) W^(t)
of section 4). g_t is the gradient of the training loss at step t and w_{t-1} the weight it was evaluated at (the
weight *before* step t). Under gradient descent -g_t has the sign of the step, so S grows for weights moving away
from zero (and for large weights pushed further out) and falls for weights moving towards zero: larger = more
important. Accumulated from the first training step the callbacks see, across successive ``fit`` calls.

The gradient is recorded by wrapping the optimizer during ``fit`` (see ``_internal/gradient_trackers.py``), exact
for any optimizer. The state is ``{"score"}``. Ignores ``data``. No options.
"""

from __future__ import annotations

from WeightImportance._internal.gradient_trackers import GradientTracker
from WeightImportance._internal.trackers import TrackedMeasure
from WeightImportance.base import ImportanceMeasure, as_importances


class MovementTracker(GradientTracker):
    accumulator_names = ("score",)

    def update_with_gradient(self, current, previous, gradient, accumulators):
        accumulators["score"].assign_sub(gradient * previous)


class Movement(TrackedMeasure, ImportanceMeasure):
    """importance S = -sum_t g_t · w_{t-1}. No options."""

    name = "movement"
    needs_data = False
    needs_training = True

    def __init__(self):
        self.tracker = MovementTracker(self.name)

    def compute(self, model, data=None):
        return as_importances(self.tracker.accumulated(model)["score"], model, self.name)
