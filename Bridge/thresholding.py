"""The thresholding part: task A's trained model thresholded with each measure's importances, by the thresholding
runner's own grid (``Experiment.EpochGrid``, given the importances instead of computing them), on task A's
validation data with task A's output mask. Rows have ``Schema.THRESHOLDING_COLUMNS``; ``task`` is the task's own
name (as the thresholding runner writes it), ``epoch`` the number of epochs trained on task A, ``measure`` the label.

``EpochGrid`` knows measures by registry name, one set of importances each, and always runs ``random``. Labels are
therefore thresholded in *passes*: each pass holds at most one label per registry name (the first pass every
label's first variant and ``random``), its rows renamed from registry name to label on the way to the CSV, and
the ``random`` curves of the later passes skipped (they are the first pass's).
"""

from __future__ import annotations

from collections.abc import Callable

from Bridge.config import BridgeConfig, base_measure
from Bridge.first_task import FirstTask
from Experiment import EpochGrid, expected_keys
from Runs.evaluation import Evaluator
from Schema import BASELINE_MEASURE, thresholding_key
from SequentialLearning import TaskSequence

RowSink = Callable[[list[dict]], None]
MEASURE_INDEX = 2  # of "measure" in Schema.THRESHOLDING_KEY_COLUMNS


def passes(labels: list[str]) -> list[dict[str, str]]:
    """The labels grouped into passes of ``{registry name: label}`` (module docstring)."""
    grouped: list[dict[str, str]] = []
    for label in labels:
        base = base_measure(label)
        target = next((p for p in grouped if base not in p), None)
        if target is None:
            target = {}
            grouped.append(target)
        target[base] = label
    return grouped


def _renamed(key: tuple, names: dict[str, str]) -> tuple:
    return key[:MEASURE_INDEX] + (names.get(key[MEASURE_INDEX], key[MEASURE_INDEX]),) + key[MEASURE_INDEX + 1:]


def expected_thresholding_keys(config: BridgeConfig, trial: int) -> set[tuple]:
    """The keys of every thresholding row of a complete trial (``Schema.thresholding_key``, measure = label)."""
    keys = set()
    for group in passes(config.labels()):
        grid_keys = expected_keys(config.thresholding_config(list(group)), trial, config.epochs)
        keys |= {_renamed(key, group) for key in grid_keys if key[MEASURE_INDEX] in group}
    return keys


def threshold_first_task(config: BridgeConfig, trial: int, sequence: TaskSequence, first: FirstTask,
                         sink: RowSink, done: set) -> None:
    """Threshold task A's model with every label's importances; rows not in ``done`` go to ``sink`` (and their
    keys into ``done``)."""
    task = sequence[0]
    model = first.learner.model
    model.set_classes(task.classes)
    evaluate_validation = Evaluator(model, model.loss, task.validation, config.evaluation_batch_size)
    x, y = task.train
    evaluate_train = Evaluator(model, model.loss, (x[:0], y[:0]))  # nothing recorded: NaN, as num_train_examples=0
    importance_data = tuple(a[: config.num_importance_examples] for a in task.train)
    for index, group in enumerate(passes(config.labels())):
        labels = {label: base for base, label in group.items()}
        grid_done = {_renamed(key, labels) for key in done if key[MEASURE_INDEX] in labels}
        if index > 0:  # random was thresholded in the first pass
            grid_done |= {key for key in expected_keys(config.thresholding_config(list(group)), trial, config.epochs)
                          if key[MEASURE_INDEX] == BASELINE_MEASURE}

        def renaming_sink(rows: list[dict], group=group) -> None:
            rows = [{**row, "measure": group.get(row["measure"], row["measure"])} for row in rows]
            sink(rows)
            done.update(thresholding_key(row) for row in rows)

        EpochGrid(
            config=config.thresholding_config(list(group)), trial=trial, epoch=config.epochs,
            task_name=sequence.task.name,
            model=model, measures={base: first.measures[label] for base, label in group.items()},
            importance_data=importance_data, evaluate_validation=evaluate_validation, evaluate_train=evaluate_train,
            importances={base: first.importances[label] for base, label in group.items()},
        ).run(renaming_sink, grid_done)
