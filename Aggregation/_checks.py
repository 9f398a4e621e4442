"""Input checks shared by ranking and thresholding; each failure is a ValueError saying what was expected."""

from __future__ import annotations

import numbers

import keras
import numpy as np


def check_fraction(fraction) -> float:
    """A real number in [0, 1], returned as float."""
    if isinstance(fraction, (bool, np.bool_)) or not isinstance(fraction, numbers.Real):
        raise ValueError(f"fraction must be a number in [0, 1], got {fraction!r} of type {type(fraction).__name__}.")
    value = float(fraction)
    if not (0.0 <= value <= 1.0):  # also rejects NaN
        raise ValueError(f"fraction must be in [0, 1], got {fraction!r}.")
    return value


def check_seed(seed) -> int:
    """A non-negative integer (the seed of ``np.random.default_rng``)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    return int(seed)


def trainable_variables(model: keras.Model) -> list:
    """The model's trainable weights; a ValueError when there are none."""
    variables = list(model.trainable_weights)
    if not variables:
        raise ValueError(
            f"Model {getattr(model, 'name', model)!r} has no trainable weights, so there is nothing to threshold. "
            "Build the model (call it on an input or give it an Input layer) and leave its layers trainable."
        )
    return variables


def check_arrays(arrays, variables: list, what: str, dtype=None) -> list[np.ndarray]:
    """One array per trainable variable with that variable's shape, as NumPy arrays."""
    if isinstance(arrays, np.ndarray) or not hasattr(arrays, "__len__"):
        raise ValueError(
            f"{what} must be a list with one array per model.trainable_weights entry "
            f"({len(variables)} expected), got {type(arrays).__name__}."
        )
    if len(arrays) != len(variables):
        raise ValueError(
            f"Expected {len(variables)} {what} arrays (one per model.trainable_weights entry), got {len(arrays)}."
        )
    result = []
    for index, (array, variable) in enumerate(zip(arrays, variables)):
        try:
            array = np.asarray(array, dtype=dtype)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{what}[{index}] ({variable.path}) is not a numeric array: {error}") from None
        expected = tuple(variable.shape)
        if array.shape != expected:
            raise ValueError(
                f"{what}[{index}] has shape {array.shape}, but model.trainable_weights[{index}] "
                f"({variable.path}) has shape {expected}."
            )
        result.append(array)
    return result


def check_finite(arrays: list, variables: list, what: str, selected: list[bool]) -> None:
    """A ValueError naming the first ``selected`` array that holds a NaN or an infinity (the others are unused)."""
    for index, (array, variable, chosen) in enumerate(zip(arrays, variables, selected)):
        if chosen and not np.all(np.isfinite(array)):
            raise ValueError(
                f"{what}[{index}] ({variable.path}) contains NaN or infinite values; importances must be finite."
            )
