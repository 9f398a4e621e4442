"""The state of a run in training, as flat named arrays: model variables (weights, BatchNormalization
statistics, dropout seed state), optimizer variables and the training-time measures' accumulated state.

``capture`` and ``restore`` are exact inverses; checkpoints write what ``capture`` returns to disk, and a runner
that forks after a point (the sequential λ sweep) keeps it in memory.

Every array is keyed by the variable it belongs to, never by position, so two variables of the same shape cannot
be swapped by a model whose variables are created in another order:

- ``model/<path>`` for each of ``model.variables`` (its Keras 3 ``path``, e.g. ``model/digits/dense/kernel``);
- ``optimizer/<path>`` for each of the optimizer's variables (``optimizer/adam/digits_dense_kernel_momentum``);
- ``measure/NAME/KEY/<path>`` for a measure's state that holds one array per trainable weight (every tracker's),
  keyed by that weight's path; ``measure/NAME/KEY/<i>`` for any other list.

A path shared by two variables is told apart by its occurrence (``path#1``; ``Schema.arrays.unique_keys``).
Restoring matches by exact path, and where paths differ only in Keras' automatic numbers (a second build of the
same model in one process: ``dense_1`` for ``dense``) by those paths up to the numbers (``Schema.arrays``).

Checkpoints written before path keys (``model/<i>``, ``optimizer/<i>``, ``measure/NAME/KEY/<i>``, in the order of
the variables) are still restored, by position, as they were written.
"""

from __future__ import annotations

import keras
import numpy as np

from Schema.arrays import automatic_names, match_arrays, unique_keys

MODEL, OPTIMIZER, MEASURE = "model/", "optimizer/", "measure/"


def capture(model: keras.Model, measures: dict) -> dict[str, np.ndarray]:
    """``model/<path>``, ``optimizer/<path>`` and ``measure/NAME/KEY/<path or i>`` arrays (copies; module
    docstring)."""
    arrays = {MODEL + key: np.array(v) for key, v in zip(_keys(model.variables), model.variables)}
    optimizer = model.optimizer.variables
    arrays.update({OPTIMIZER + key: np.array(v) for key, v in zip(_keys(optimizer), optimizer)})
    for name, measure in measures.items():
        for key, values in measure.get_state().items():
            arrays.update({f"{MEASURE}{name}/{key}/{label}": np.array(a)
                           for label, a in weight_labels(model, values).items()})
    return arrays


def weight_labels(model: keras.Model, values: list) -> dict[str, np.ndarray]:
    """``values`` by label: the trainable weights' paths where it holds one array per trainable weight (same
    count and shapes), else their positions ``0``, ``1``, ...; ``weight_arrays`` reads them back."""
    weights = model.trainable_weights
    per_weight = len(values) == len(weights) and all(
        tuple(np.shape(a)) == tuple(w.shape) for a, w in zip(values, weights))
    labels = _keys(weights) if per_weight else [str(i) for i in range(len(values))]
    return dict(zip(labels, values))


def weight_arrays(model: keras.Model, labelled: dict[str, np.ndarray], what: str) -> list[np.ndarray]:
    """What ``weight_labels`` gave, as a list again: by position where labelled by position, else one array per
    trainable weight of ``model`` in its order, matched by path (``Schema.arrays.match_arrays``; a ``ValueError``
    beginning with ``what`` names the paths that differ)."""
    if all(label.isdigit() for label in labelled):
        return [labelled[label] for label in sorted(labelled, key=int)]
    weights = model.trainable_weights
    return match_arrays(labelled, [(k, tuple(w.shape)) for k, w in zip(_keys(weights), weights)], _automatic(model),
                        what=what)


def restore(model: keras.Model, measures: dict, arrays: dict[str, np.ndarray], source: str = "the saved state") \
        -> None:
    """Assign what ``capture`` returned to the model, its optimizer and the measures. Every array is matched to
    its variable (paths and shapes; module docstring) before any is assigned, so a ``ValueError`` naming the
    paths that differ leaves the model and optimizer as they were."""
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    automatic = _automatic(model)
    pairs = []
    for prefix, variables, owner in ((MODEL, model.variables, "the model"),
                                     (OPTIMIZER, optimizer.variables, "the optimizer")):
        section = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        values = _section(section, variables, automatic, f"{source} does not fit {owner}'s variables")
        pairs.extend(zip(variables, values))
    states = {}
    for name in measures:
        prefix = f"{MEASURE}{name}/"
        lists: dict[str, dict[str, np.ndarray]] = {}
        for key, value in arrays.items():
            if key.startswith(prefix):
                state_key, _, label = key[len(prefix):].partition("/")
                lists.setdefault(state_key, {})[label] = value
        states[name] = {state_key: weight_arrays(model, labelled, f"{source}: the state {state_key!r} of measure "
                                                                  f"{name!r} does not fit the trainable weights")
                        for state_key, labelled in lists.items()}
    for variable, value in pairs:
        variable.assign(value)
    for name, measure in measures.items():
        if states[name]:
            measure.set_state(states[name])


def _section(section: dict[str, np.ndarray], variables: list, automatic: dict, what: str) -> list[np.ndarray]:
    """The arrays of one prefix for ``variables``: by path, or by position in a file written before paths."""
    if section and all(key.isdigit() for key in section):
        keys = sorted(section, key=int)
        if len(keys) != len(variables):
            raise ValueError(f"{what}: it holds {len(keys)} variables by position, there are {len(variables)}.")
        for key, variable in zip(keys, variables):
            if tuple(np.shape(section[key])) != tuple(variable.shape):
                raise ValueError(f"{what}: it holds variable {key} of shape {np.shape(section[key])}, the variable "
                                 f"{variable.path} has shape {tuple(variable.shape)}.")
        return [section[key] for key in keys]
    return match_arrays(section, [(k, tuple(v.shape)) for k, v in zip(_keys(variables), variables)], automatic,
                        what=what)


def _keys(variables) -> list[str]:
    return unique_keys([variable.path for variable in variables])


def _automatic(model: keras.Model) -> dict[str, set[str]]:
    """The automatic names among the model's layers (nested ones included), their seed generators and the
    optimizer (``Schema.arrays.automatic_names``)."""
    named = [(model.optimizer.name, type(model.optimizer).__name__)]
    for layer in model._flatten_layers(include_self=True):
        named.append((layer.name, type(layer).__name__))
        named.extend((generator.name, type(generator).__name__)
                     for generator in getattr(layer, "_seed_generators", ()))
    return automatic_names(named)
