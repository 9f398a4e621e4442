"""The registry of task sequences: name -> ``build_sequence(task, seed, *, num_tasks, splits, **task_options)``."""

from __future__ import annotations

from SequentialLearning import permuted, split
from SequentialLearning.sequence import TaskSequence

SEQUENCES = {
    "permuted": permuted.build_sequence,
    "split": split.build_sequence,
}


def available_sequences() -> list[str]:
    return sorted(SEQUENCES)


def get_sequence(name: str, task: str = "digits", seed: int = 0, *, num_tasks: int = 2, splits=None,
                 **task_options) -> TaskSequence:
    """The sequence ``name`` (``available_sequences()``) built from the registered task ``task``."""
    if name not in SEQUENCES:
        raise ValueError(f"Unknown sequence {name!r}; valid sequences: {available_sequences()}.")
    return SEQUENCES[name](task, seed, num_tasks=num_tasks, splits=splits, **task_options)
