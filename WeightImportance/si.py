"""Synaptic intelligence: each weight's contribution to the decrease of the training loss, per squared distance.

    ω = -sum_t g_t · Δw_t,        Ω = ω / ((w_T - w_0)^2 + ξ)

(Zenke, Poole & Ganguli 2017, "Continual Learning Through Synaptic Intelligence", eqs. 3 and 5). g_t is the
gradient of the training loss at step t (evaluated at w_{t-1}), Δw_t = w_t - w_{t-1} the change that step made, so
ω is the path integral of the loss decrease attributed to the weight. w_0 is the weights when tracking first starts
(the first ``on_train_begin``), w_T the weights at ``compute`` time. ``damping`` is ξ, which keeps Ω finite for
weights that end where they started; the default 1e-3 is small next to typical squared weight changes, so Ω stays
close to ω / Δ^2 (implementations also use values up to 0.1).

The gradient is recorded by wrapping the optimizer during ``fit`` (see ``_internal/gradient_trackers.py``): exact
for any optimizer, not the SGD-only identity g_t = -Δw_t / lr. Ω is returned as it is: "larger = more important"
holds directly, and a negative Ω (a weight whose updates, on balance, raised the loss) is simply the least important.
Accumulates over successive ``fit`` calls; the state is ``{"omega", "initial"}``. Ignores ``data``.
"""

from __future__ import annotations

import numpy as np

from WeightImportance._internal.gradient_trackers import GradientTracker, InitialWeightsTracker
from WeightImportance._internal.trackers import TrackedMeasure
from WeightImportance.base import ImportanceMeasure, as_importances, check_model


class SynapticIntelligenceTracker(InitialWeightsTracker, GradientTracker):
    accumulator_names = ("omega", "initial")

    def update_with_gradient(self, current, previous, gradient, accumulators):
        accumulators["omega"].assign_sub(gradient * (current - previous))


class SI(TrackedMeasure, ImportanceMeasure):
    """importance Ω = ω / ((w_T - w_0)^2 + ξ). Options: ``damping`` (ξ > 0, default 1e-3)."""

    name = "si"
    needs_data = False
    needs_training = True

    def __init__(self, damping: float = 1e-3):
        if not damping > 0:
            raise ValueError(f"damping (ξ) must be > 0, got {damping!r}.")
        self.damping = float(damping)
        self.tracker = SynapticIntelligenceTracker(self.name)

    def compute(self, model, data=None):
        weights = check_model(model)
        state = self.tracker.accumulated(model)
        importance = [omega / (np.square(np.asarray(w, np.float64) - initial) + self.damping)
                      for omega, initial, w in zip(state["omega"], state["initial"], weights)]
        return as_importances(importance, model, self.name)
