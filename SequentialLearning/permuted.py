"""Permuted tasks: every task has all the classes, with the input pixels in a fixed random order of its own.

Permuted MNIST (Goodfellow et al. 2013, "An Empirical Investigation of Catastrophic Forgetting in Gradient-Based
Neural Networks"; Kirkpatrick et al. 2017). Task 0 keeps the original pixel order; task k > 0 permutes the pixel
positions with a permutation drawn from ``(seed, k)``, the same for the training and validation data. Images
``(N, H, W, C)`` have their H·W positions permuted (the channels of a pixel move together); other inputs their
flattened features. The output is not masked (every task has every class).
"""

from __future__ import annotations

import numpy as np

import Tasks
from SequentialLearning.sequence import SequenceTask, TaskSequence

NAME = "permuted"


def permute_inputs(x: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """``x`` with its pixel positions (images) or flattened features (other inputs) in ``permutation`` order."""
    if x.ndim == 4:
        n, height, width, channels = x.shape
        return x.reshape(n, height * width, channels)[:, permutation].reshape(x.shape)
    return x.reshape(len(x), -1)[:, permutation].reshape(x.shape)


def permutation_size(x: np.ndarray) -> int:
    return x.shape[1] * x.shape[2] if x.ndim == 4 else int(np.prod(x.shape[1:]))


def build_sequence(task: str = "digits", seed: int = 0, *, num_tasks: int = 2, splits=None,
                   **task_options) -> TaskSequence:
    """``num_tasks`` permutations of ``task`` (see the module docstring); ``task_options`` go to ``Tasks.get_task``."""
    if splits:
        raise ValueError("splits are for split sequences; a permuted sequence uses every class in every task.")
    if num_tasks < 2:
        raise ValueError(f"A permuted sequence needs at least 2 tasks; got {num_tasks}.")
    whole = Tasks.get_task(task, seed=seed, **task_options)
    size = permutation_size(whole.train[0])
    tasks = []
    for index in range(num_tasks):
        permutation = np.arange(size) if index == 0 else np.random.default_rng([seed, index]).permutation(size)
        train = (permute_inputs(whole.train[0], permutation), whole.train[1])
        validation = (permute_inputs(whole.validation[0], permutation), whole.validation[1])
        tasks.append(SequenceTask(f"{task}/permutation {index}", train, validation, None))
    return TaskSequence(NAME, whole, tasks)
