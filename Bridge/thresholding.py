"""The thresholding part: task A's trained model thresholded with each measure's importances, by the thresholding
runner's own grid (``Experiment.EpochGrid``, given the importances instead of computing them), on task A's
validation data with task A's output mask. Rows have ``Schema.THRESHOLDING_COLUMNS``; ``task`` is the task's own
name (as the thresholding runner writes it), ``epoch`` the number of epochs trained on task A, ``measure`` the label.
The grid knows measures and importances by label (``fisher``, ``fisher@sampled``), so every label, ``random``
included, is one of its measures.
"""

from __future__ import annotations

from Bridge.config import BridgeConfig
from Bridge.first_task import FirstTask
from Experiment import EpochGrid, expected_keys
from Runs.evaluation import Evaluator
from Runs.results import RowSink
from Schema import thresholding_key
from SequentialLearning import TaskSequence


def expected_thresholding_keys(config: BridgeConfig, trial: int) -> set[tuple]:
    """The keys of every thresholding row of a complete trial (``Schema.thresholding_key``, measure = label)."""
    return expected_keys(config.thresholding_config(config.labels()), trial, config.epochs)


def threshold_first_task(config: BridgeConfig, trial: int, sequence: TaskSequence, first: FirstTask,
                         sink: RowSink, done: set) -> None:
    """Threshold task A's model with every label's importances; rows not in ``done`` go to ``sink`` (and their
    keys into ``done``)."""
    task = sequence[0]
    model = first.learner.model
    model.set_classes(task.classes)
    evaluate_validation = Evaluator(model, model.loss, task.validation, config.evaluation_batch_size)
    x, y = task.train
    evaluate_train = Evaluator(model, model.loss, (x[:0], y[:0]))  # nothing recorded: NaN, as num_train_loss_examples=0
    importance_data = tuple(a[: config.num_importance_examples] for a in task.train)

    def recording_sink(rows: list[dict]) -> None:
        sink(rows)
        done.update(thresholding_key(row) for row in rows)

    labels = config.labels()
    EpochGrid(
        config=config.thresholding_config(labels), trial=trial, epoch=config.epochs, task_name=sequence.task.name,
        model=model, measures={label: first.measures[label] for label in labels}, importance_data=importance_data,
        evaluate_validation=evaluate_validation, evaluate_train=evaluate_train,
        importances={label: first.importances[label] for label in labels},
    ).run(recording_sink, set(done))
