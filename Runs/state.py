"""The state of a run in training, as flat named arrays: model variables (weights, BatchNormalization
statistics, dropout seed state), optimizer variables and the training-time measures' accumulated state.

``capture`` and ``restore`` are exact inverses; checkpoints write what ``capture`` returns to disk, and a runner
that forks after a point (the sequential λ sweep) keeps it in memory.
"""

from __future__ import annotations

import keras
import numpy as np


def capture(model: keras.Model, measures: dict) -> dict[str, np.ndarray]:
    """``model/i``, ``optimizer/i`` and ``measure/NAME/KEY/i`` arrays (copies)."""
    arrays = {f"model/{i}": np.array(v) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": np.array(v) for i, v in enumerate(model.optimizer.variables)})
    for name, measure in measures.items():
        for key, values in measure.get_state().items():
            arrays.update({f"measure/{name}/{key}/{i}": np.array(a) for i, a in enumerate(values)})
    return arrays


def restore(model: keras.Model, measures: dict, arrays: dict[str, np.ndarray], source: str = "the saved state") \
        -> None:
    """Assign what ``capture`` returned to the model, its optimizer and the measures. The model's and optimizer's
    variables are checked against ``arrays`` (count and shapes) before any is assigned, so a ``ValueError`` leaves
    them as they were."""
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    pairs = []
    for prefix, variables, owner in (("model/", model.variables, "the model"),
                                     ("optimizer/", optimizer.variables, "the optimizer")):
        keys = _indexed(arrays, prefix)
        if len(keys) != len(variables):
            raise ValueError(f"{source} holds {len(keys)} {prefix[:-1]} variables, {owner} has {len(variables)}.")
        for key, variable in zip(keys, variables):
            if tuple(np.shape(arrays[key])) != tuple(variable.shape):
                raise ValueError(f"{source} holds {key} of shape {np.shape(arrays[key])}, {owner}'s variable "
                                 f"{variable.path} has shape {tuple(variable.shape)}.")
            pairs.append((variable, arrays[key]))
    for variable, value in pairs:
        variable.assign(value)
    for name, measure in measures.items():
        prefix = f"measure/{name}/"
        state: dict[str, list] = {}
        for key in sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k.rsplit("/", 1)[1])):
            state.setdefault(key[len(prefix):].rsplit("/", 1)[0], []).append(arrays[key])
        if state:
            measure.set_state(state)


def _indexed(arrays: dict, prefix: str) -> list[str]:
    return sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
