"""Trackers that need more than the weights before and after each batch: the gradient of the training loss at
every step (``GradientTracker``: si, movement) or the weights when tracking first started
(``InitialWeightsTracker``: si, magnitude_increase).

A callback does not see the gradients of a training step, and they cannot be recovered from the weight change
for optimizers other than plain SGD (Adam rescales every coordinate). So during ``fit`` the model's optimizer is
wrapped: its ``apply`` (which ``apply_gradients`` and Keras' ``train_step`` call) first writes the gradients it
receives into one ``tf.Variable`` per trainable weight, owned by each listening tracker, then updates the weights
as before. The writes are traced into the compiled train step, so they cost one assignment per weight per step.

Keras builds and caches ``model.train_function`` before ``on_train_begin``; a gradient tracker therefore wraps the
optimizer in ``on_train_begin`` and rebuilds the train function (``make_train_function(force=True)``) so that the
wrapper is traced in. In ``on_train_end`` it stops listening; when the last listener of an optimizer has gone the
optimizer is unwrapped and ``model.train_function`` reset, so the next ``fit`` traces a clean step. So every ``fit``
with a gradient tracker traces the train step anew (where Keras would trace it once per model): a second or so for
a small model. Several gradient trackers attached to one ``fit`` share one wrapper.

The recorded gradient is that of the loss the optimizer minimizes (the compiled loss plus any ``model.losses``
penalties, in training mode), unscaled by the optimizer's ``loss_scale_factor``. A ``LossScaleOptimizer`` and
``gradient_accumulation_steps`` are refused: with them, the gradient passed to ``apply`` is not the gradient of the
step that changes the weights.
"""

from __future__ import annotations

import abc

import keras
import tensorflow as tf

from WeightImportance._internal.trackers import WeightTracker


class _GradientHub:
    """The wrapper around one optimizer's ``apply``, writing its gradients into every listener's variables."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.listeners: dict[int, GradientTracker] = {}
        self._original_apply = optimizer.apply
        self._apply_was_set_on_instance = "apply" in vars(optimizer)

        def apply(grads, trainable_variables=None):
            grads = list(grads)
            variables = (list(trainable_variables) if trainable_variables is not None
                         else list(optimizer._trainable_variables))
            self._record(grads, variables)
            return self._original_apply(grads, trainable_variables)

        optimizer.apply = apply

    def _record(self, grads, variables) -> None:
        scale = self.optimizer.loss_scale_factor
        by_variable = {id(v): g for g, v in zip(grads, variables)}
        for tracker in self.listeners.values():
            for weight, sink in zip(tracker._watched, tracker._gradients):
                gradient = by_variable.get(id(weight))
                if gradient is None:
                    sink.assign(tf.zeros_like(sink))
                    continue
                gradient = tf.cast(tf.convert_to_tensor(gradient), tf.float32)
                if scale is not None:
                    gradient = gradient / scale
                sink.assign(gradient)

    def close(self) -> None:
        if self._apply_was_set_on_instance:
            self.optimizer.apply = self._original_apply
        else:
            del self.optimizer.apply


_hubs: dict[int, _GradientHub] = {}


def _listen(tracker: GradientTracker, optimizer) -> None:
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        raise ValueError(
            f"The {tracker.measure_name!r} tracker records the gradient of every step, which a LossScaleOptimizer "
            "hides behind its dynamic loss scale. Train without mixed-precision loss scaling."
        )
    if getattr(optimizer, "gradient_accumulation_steps", None):
        raise ValueError(
            f"The {tracker.measure_name!r} tracker needs the gradient of the step that changes the weights, but the "
            f"optimizer accumulates gradients over {optimizer.gradient_accumulation_steps} steps. "
            "Use an optimizer with gradient_accumulation_steps=None."
        )
    hub = _hubs.get(id(optimizer))
    if hub is None or hub.optimizer is not optimizer:
        hub = _hubs[id(optimizer)] = _GradientHub(optimizer)
    hub.listeners[id(tracker)] = tracker


def _stop_listening(tracker: GradientTracker, optimizer) -> bool:
    """Remove ``tracker``; True when the optimizer was unwrapped (its last listener left)."""
    hub = _hubs.get(id(optimizer))
    if hub is None or hub.optimizer is not optimizer:
        return False
    hub.listeners.pop(id(tracker), None)
    if hub.listeners:
        return False
    hub.close()
    del _hubs[id(optimizer)]
    return True


class GradientTracker(WeightTracker, abc.ABC):
    """A ``WeightTracker`` whose per-batch update also sees the gradient g_t of the step that made the change.

    ``update_with_gradient(current, previous, gradient, accumulators)`` runs for every trainable weight after every
    batch, inside one compiled function: ``previous`` = w_{t-1} (where g_t was evaluated), ``current`` = w_t.
    """

    def __init__(self, measure_name: str):
        super().__init__(measure_name)
        self._gradients: list[tf.Variable] | None = None

    @abc.abstractmethod
    def update_with_gradient(self, current, previous, gradient, accumulators) -> None:
        """Graph code: update one weight's accumulators from w_t, w_{t-1} and the step's gradient g_t."""

    def update(self, current, previous, accumulators) -> None:
        raise NotImplementedError("Gradient trackers update through update_with_gradient.")

    def _build(self, weights) -> None:
        super()._build(weights)
        if self._gradients is None:
            self._gradients = [tf.Variable(tf.zeros(shape, tf.float32), trainable=False) for shape in self._shapes]

    def _step(self):
        for index, weight in enumerate(self._watched):
            current = tf.cast(tf.convert_to_tensor(weight), tf.float32)
            previous = self._previous[index]
            self.update_with_gradient(current, tf.convert_to_tensor(previous),
                                      tf.convert_to_tensor(self._gradients[index]),
                                      {name: values[index] for name, values in self._accumulators.items()})
            previous.assign(current)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        _listen(self, self.model.optimizer)
        self.model.make_train_function(force=True)

    def on_train_end(self, logs=None):
        if _stop_listening(self, self.model.optimizer):
            self.model.train_function = None


class InitialWeightsTracker(WeightTracker):
    """A ``WeightTracker`` that also keeps w_0, the weights when tracking first starts, as the state "initial".

    w_0 is taken at the first ``on_train_begin`` (or restored by ``set_state``) and never overwritten later, so
    it stays the starting point across successive ``fit`` calls.
    """

    def __init__(self, measure_name: str):
        super().__init__(measure_name)
        self._has_initial = False

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if not self._has_initial:
            for initial, weight in zip(self._accumulators["initial"], self._watched):
                initial.assign(tf.cast(tf.convert_to_tensor(weight), tf.float32))
            self._has_initial = True

    def set_state(self, state) -> None:
        super().set_state(state)
        if "initial" in state:
            self._has_initial = True
