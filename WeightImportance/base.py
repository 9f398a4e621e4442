"""The contract every weight importance measure meets.

A measure is used the same way whatever it is::

    measure = WeightImportance.get_measure("fisher", num_samples=512)
    model.fit(x, y, callbacks=measure.callbacks())     # [] for measures computed after training
    importances = measure.compute(model, (x, y))       # one array per model.trainable_weights entry

``compute`` returns one ``float64`` NumPy array per entry of ``model.trainable_weights``, with that entry's
shape, finite, and larger meaning more important. It never changes the model: neither its weights nor its
BatchNormalization statistics (models are called with ``training=False``).

Measures that accumulate state during training expose it through ``get_state``/``set_state`` so that a run can
be checkpointed and resumed.

Every measure class declares what a runner must give it, so that a runner reads these class attributes (through
``WeightImportance.measure_class(name)``, without building the measure) instead of guessing:

- ``needs_data``: ``compute`` reads its ``data`` argument; when False, ``compute(model)`` gives the same arrays.
- ``needs_training``: ``callbacks()`` is not empty; pass them to every ``fit`` the measure should observe.
- ``needs_seed``: the measure takes a ``seed`` option; a runner sets it from the trial's seed.
- ``needs_groups``: the measure scores groups of weights defined by the caller (the measure knows no units or
  layers). Before ``compute``, give it a grouping with ``set_grouping(group_ids)``: a function
  ``group_ids(model, level) -> (ids, num_groups)`` returning one int array of global group ids per
  ``model.trainable_weights`` entry (same shape, ids in ``[0, num_groups)``), e.g. ``Aggregation.group_ids``. The
  measure calls it with its own ``level`` attribute. ``set_grouping`` returns the measure:
  ``get_measure("oracle").set_grouping(Aggregation.group_ids).compute(model, data)``.

The registry-wide contract test checks every declaration against the measure's behaviour.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import keras
import numpy as np


class ImportanceMeasure(abc.ABC):
    """Base class of all measures. Subclasses set ``name`` (their registry key) and those ``needs_*`` declarations
    (module docstring) that differ from the defaults below, and implement ``compute``."""

    name: str = ""
    needs_data: bool = True
    needs_training: bool = False
    needs_seed: bool = False
    needs_groups: bool = False

    def callbacks(self) -> list[keras.callbacks.Callback]:
        """Keras callbacks to pass to ``fit`` so the measure can observe training ([] if it needs none)."""
        return []

    @abc.abstractmethod
    def compute(self, model: keras.Model, data=None) -> list[np.ndarray]:
        """One importance array per ``model.trainable_weights`` entry, same shape, larger = more important."""

    def set_grouping(self, group_ids: Callable) -> ImportanceMeasure:
        """Give a ``needs_groups`` measure the function that groups a model's weights (see the module docstring);
        returns the measure, so that the call chains: ``measure.set_grouping(f).compute(model, data)``."""
        raise ValueError(f"Measure {self.name!r} scores every weight on its own and takes no grouping "
                         "(its class has needs_groups = False).")

    def get_state(self) -> dict[str, list[np.ndarray]]:
        """What the measure accumulated during training, as arrays (empty for post-training measures)."""
        return {}

    def set_state(self, state: dict[str, list[np.ndarray]]) -> None:
        """Restore what ``get_state`` returned (e.g. when a run resumes from a checkpoint)."""
        if state:
            raise ValueError(f"Measure {self.name!r} keeps no training state, but was given {sorted(state)}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def check_model(model: keras.Model) -> list:
    """The model's trainable weights; a clear error when it has none."""
    weights = list(model.trainable_weights)
    if not weights:
        raise ValueError(
            f"Model {model.name!r} has no trainable weights, so there is nothing to score. "
            "Build the model (call it on an input or give it an Input layer) and leave its layers trainable."
        )
    return weights


def as_importances(arrays, model: keras.Model, measure: str) -> list[np.ndarray]:
    """Convert a measure's output to the contract's form and check it (shapes, finiteness)."""
    weights = model.trainable_weights
    result = [np.asarray(a, dtype=np.float64) for a in arrays]
    if len(result) != len(weights):
        raise RuntimeError(f"Measure {measure!r} returned {len(result)} arrays for {len(weights)} trainable weights.")
    for index, (array, weight) in enumerate(zip(result, weights)):
        if array.shape != tuple(weight.shape):
            raise RuntimeError(
                f"Measure {measure!r} returned shape {array.shape} for trainable weight {index} "
                f"({weight.path}) of shape {tuple(weight.shape)}."
            )
        if not np.all(np.isfinite(array)):
            raise FloatingPointError(
                f"Measure {measure!r} produced non-finite importances for trainable weight {index} ({weight.path})."
            )
    return result
