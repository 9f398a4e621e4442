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
    """Assign what ``capture`` returned to the model, its optimizer and the measures."""
    variables = model.variables
    model_keys = _indexed(arrays, "model/")
    if len(model_keys) != len(variables):
        raise ValueError(f"{source} holds {len(model_keys)} model variables, the model has {len(variables)}.")
    for key, variable in zip(model_keys, variables):
        variable.assign(arrays[key])
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    optimizer_keys = _indexed(arrays, "optimizer/")
    if len(optimizer_keys) != len(optimizer.variables):
        raise ValueError(f"{source} holds {len(optimizer_keys)} optimizer variables, the optimizer has "
                         f"{len(optimizer.variables)}.")
    for key, variable in zip(optimizer_keys, optimizer.variables):
        variable.assign(arrays[key])
    for name, measure in measures.items():
        prefix = f"measure/{name}/"
        state: dict[str, list] = {}
        for key in sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k.rsplit("/", 1)[1])):
            state.setdefault(key[len(prefix):].rsplit("/", 1)[0], []).append(arrays[key])
        if state:
            measure.set_state(state)


def _indexed(arrays: dict, prefix: str) -> list[str]:
    return sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
