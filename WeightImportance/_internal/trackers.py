"""Keras callbacks that accumulate per-weight statistics after every training batch.

The update runs as one compiled TensorFlow function per batch over all trainable weights (no eager per-variable
Python work), so tracking costs little next to the training step itself. A tracker starts from the weights as
they are when ``fit`` begins, so the very first update of training is counted, and keeps counting across
successive ``fit`` calls (e.g. a runner that trains epoch by epoch, or a later task in sequential learning).
Per-batch tracking needs a batch callback after every step: ``steps_per_execution`` must be 1.
"""

from __future__ import annotations

import abc

import keras
import numpy as np
import tensorflow as tf


class WeightTracker(keras.callbacks.Callback, abc.ABC):
    """Keeps the previous weights and a set of named per-weight accumulators, updated after each batch."""

    accumulator_names: tuple[str, ...] = ()

    def __init__(self, measure_name: str):
        super().__init__()
        self.measure_name = measure_name
        self._previous: list[tf.Variable] | None = None
        self._accumulators: dict[str, list[tf.Variable]] | None = None
        self._pending_state: dict[str, list[np.ndarray]] | None = None
        self._shapes: list[tuple[int, ...]] | None = None
        self._watched: list = []
        self._compiled_update = None
        self.num_updates = 0

    # -- the statistic ---------------------------------------------------------------------------------------
    @abc.abstractmethod
    def update(self, current: tf.Tensor, previous: tf.Tensor, accumulators: dict[str, tf.Variable]) -> None:
        """Graph code: update one weight's accumulators from its value before and after a batch."""

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _build(self, weights) -> None:
        shapes = [tuple(w.shape) for w in weights]
        if self._shapes is not None:
            if shapes != self._shapes:
                raise ValueError(
                    f"The {self.measure_name!r} tracker was attached to a model with weight shapes {self._shapes}, "
                    f"now it sees {shapes}. Use one measure object per model."
                )
            return
        self._shapes = shapes
        self._previous = [tf.Variable(tf.convert_to_tensor(w), trainable=False) for w in weights]
        self._accumulators = {
            name: [tf.Variable(tf.zeros(shape, dtype=tf.float32), trainable=False) for shape in shapes]
            for name in self.accumulator_names
        }
        if self._pending_state is not None:
            self._load(self._pending_state)
            self._pending_state = None

    def _step(self):
        for index, weight in enumerate(self._watched):
            current = tf.cast(tf.convert_to_tensor(weight), tf.float32)
            previous = self._previous[index]
            self.update(current, tf.convert_to_tensor(previous),
                        {name: values[index] for name, values in self._accumulators.items()})
            previous.assign(current)

    def on_train_begin(self, logs=None):
        steps = getattr(self.model, "steps_per_execution", 1)
        steps = int(steps.numpy()) if hasattr(steps, "numpy") else int(steps or 1)
        if steps != 1:
            raise ValueError(
                f"The {self.measure_name!r} tracker counts changes after every batch, but the model was compiled "
                f"with steps_per_execution={steps}. Compile with steps_per_execution=1."
            )
        weights = list(self.model.trainable_weights)
        self._build(weights)
        for previous, weight in zip(self._previous, weights):
            previous.assign(tf.cast(tf.convert_to_tensor(weight), tf.float32))
        # Traced once per set of watched variables: later fits of the same model reuse the compiled update.
        if self._compiled_update is None or not _same_variables(self._watched, weights):
            self._watched = weights
            self._compiled_update = tf.function(self._step)

    def on_train_batch_end(self, batch, logs=None):
        self._compiled_update()
        self.num_updates += 1

    def accumulated(self, model: keras.Model) -> dict[str, list[np.ndarray]]:
        """The accumulators as arrays (from training, or from a loaded state), checked against ``model``."""
        state = self.get_state()
        if not state:
            raise RuntimeError(
                f"Measure {self.measure_name!r} accumulates during training, but its callbacks never saw a "
                "training batch: pass measure.callbacks() to model.fit(...) before calling compute()."
            )
        tracked = [tuple(a.shape) for a in state[self.accumulator_names[0]]]
        shapes = [tuple(w.shape) for w in model.trainable_weights]
        if shapes != tracked:
            raise ValueError(
                f"Measure {self.measure_name!r} tracked a model with weight shapes {tracked}, "
                f"but compute() got one with {shapes}."
            )
        return {name: [np.asarray(a, dtype=np.float64) for a in arrays] for name, arrays in state.items()}

    def get_state(self) -> dict[str, list[np.ndarray]]:
        if self._accumulators is None:
            return dict(self._pending_state or {})
        return {name: [v.numpy() for v in values] for name, values in self._accumulators.items()}

    def _load(self, state) -> None:
        unknown = set(state) - set(self.accumulator_names)
        if unknown:
            raise ValueError(f"Unknown state {sorted(unknown)} for {self.measure_name!r}; "
                             f"valid: {list(self.accumulator_names)}.")
        for name, arrays in state.items():
            for variable, array in zip(self._accumulators[name], arrays, strict=True):
                variable.assign(np.asarray(array, dtype=np.float32))

    def set_state(self, state: dict[str, list[np.ndarray]]) -> None:
        if self._accumulators is None:
            self._pending_state = {name: [np.asarray(a) for a in arrays] for name, arrays in state.items()}
        else:
            self._load(state)


class TrackedMeasure:
    """Mixin for measures whose importance is computed from one ``WeightTracker``'s accumulators."""

    tracker: WeightTracker

    def callbacks(self):
        return [self.tracker]

    def get_state(self):
        return self.tracker.get_state()

    def set_state(self, state):
        self.tracker.set_state(state)


def _same_variables(first: list, second: list) -> bool:
    return len(first) == len(second) and all(a is b for a, b in zip(first, second))
