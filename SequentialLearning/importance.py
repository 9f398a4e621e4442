"""The importance behind each EWC run: any registered measure, or one of two baselines.

- ``"none"``: no penalty at all, plain fine-tuning (run with λ = 0 only).
- ``"uniform"``: Ω = 1 for every weight, i.e. L2 towards the weights after the previous task(s).
- every name of ``WeightImportance.available_measures()`` whose measure scores single weights, e.g. ``"random"``
  (uniform random importances), ``"fisher"`` (the original EWC), ``"magnitude"``, ``"si"``, ``"mas"``, ... Not
  ``"oracle"``: it scores groups of weights (``needs_groups``) that ``Aggregation`` defines, and this runner does
  not load ``Aggregation``.

Measures are used only through ``WeightImportance``'s public surface: ``measure_class`` (what a measure needs),
``get_measure``, ``callbacks``, ``compute``, ``get_state``/``set_state``. One measure object serves a whole
sequence: the callbacks of a training-time measure (``sign_flips``, ``si``, ``movement``, ...) stay attached to
every task's ``fit``, so after task k it has tracked everything since the first task, and Ω_k is what it computes
then.
"""

from __future__ import annotations

import numpy as np

import WeightImportance

NO_PENALTY = "none"
UNIFORM = "uniform"
BASELINES = (NO_PENALTY, UNIFORM)


class Uniform(WeightImportance.ImportanceMeasure):
    """Ω = 1 for every trainable weight: the EWC penalty becomes L2 towards the old weights. No options."""

    name = UNIFORM
    needs_data = False

    def compute(self, model, data=None):
        return [np.ones(tuple(w.shape), dtype=np.float64) for w in model.trainable_weights]


def available_importances() -> list[str]:
    """The names an EWC run accepts: the baselines, then the registered measures that score single weights."""
    return [*BASELINES, *(name for name in WeightImportance.available_measures()
                          if not WeightImportance.measure_class(name).needs_groups)]


def importance_options(name: str) -> list[str]:
    """The options ``get_importance(name, ...)`` accepts."""
    if name in BASELINES:
        return []
    if name not in available_importances():
        if name in WeightImportance.available_measures():
            raise ValueError(f"Importance {name!r} scores groups of weights defined by Aggregation, which the "
                             f"sequential runner does not load; valid: {available_importances()}.")
        raise ValueError(f"Unknown importance {name!r}; valid: {available_importances()}.")
    return WeightImportance.measure_options(name)


def get_importance(name: str, seed: int | None = None, **options) -> WeightImportance.ImportanceMeasure | None:
    """The measure object for ``name`` (None for ``"none"``); ``seed`` is passed to measures that take one."""
    valid = importance_options(name)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"Unknown option(s) {unknown} for {name!r}; valid options: {valid or 'none'}.")
    if name == NO_PENALTY:
        return None
    if name == UNIFORM:
        return Uniform()
    if seed is not None and WeightImportance.measure_class(name).needs_seed:
        options.setdefault("seed", int(seed))
    return WeightImportance.get_measure(name, **options)
