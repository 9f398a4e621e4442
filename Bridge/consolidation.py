"""The EWC part: from task A's trained model, every importance learns the rest of the sequence with EWC, for every λ
(the grid and the values the study extended it with, ``Bridge.extension``).

For each label (and the baselines ``none``, ``uniform``), a ``SequentialLearner`` of that importance is built as
the sequential runner builds it, and task A's trained state is assigned to it (``Runs.state.restore``: the model,
and the measure's training state, so a training-time measure goes on counting from what it saw on task A). Task
A's term is then consolidated with *the study's importances of that model* (``EWCModel.consolidate``: normalised
as ``SequentialLearning`` normalises them, anchored at task A's weights): the very arrays the thresholding part
ranked. ``uniform`` consolidates Ω = 1 and ``none`` nothing, as in ``SequentialLearning``. Every λ continues from
that point (``SequentialLearner.snapshot``/``restore``), trains task B, C, ... and consolidates each later task
but the last with the measure computed as ``SequentialLearning`` computes it.

After each task, every task seen so far is evaluated twice: on its validation data (the reported split, rows to
``sequential.csv``) and on its selection split (rows to ``selection.csv``), both with ``Schema.SEQUENTIAL_COLUMNS``.
The rows of a run are written together when it ends, to each file that lacks them; a run counts as done when both
files hold all its rows.
"""

from __future__ import annotations

import math

from Bridge.config import BridgeConfig
from Bridge.first_task import FirstTask, StudySequence, new_learner
from Bridge.paths import SELECTION, SEQUENTIAL
from Runs import state
from Runs.evaluation import Evaluator, compiled_sums
from Runs.results import RowSink
from Schema import NO_PENALTY, UNIFORM_PENALTY, sequential_run_key
from SequentialLearning import SequentialLearner


class SelectionEvaluator:
    """(loss, accuracy) of a learner's model on task j's selection split, with task j's output mask."""

    def __init__(self, learner: SequentialLearner, study: StudySequence, batch_size: int):
        self.model = learner.model
        self.sequence = study.sequence
        sums = compiled_sums(self.model, self.model.loss)
        self.evaluators = [Evaluator(self.model, self.model.loss, data, batch_size, sums=sums)
                           for data in study.selection]

    def __call__(self, index: int) -> tuple[float, float]:
        with self.model.classes_set(self.sequence[index].classes):
            return self.evaluators[index]()


def learn_with_ewc(config: BridgeConfig, trial: int, study: StudySequence, first: FirstTask,
                   sinks: dict[str, RowSink], done: dict[str, set], extended: dict | None = None) -> None:
    """Every (importance, λ) of ``config.runs(extended)`` (``extended``: per label, the λ the study added to the
    grid, ``Bridge.extension``) not done in both ``done[SEQUENTIAL]`` and ``done[SELECTION]`` (run keys), its rows
    appended through ``sinks`` of the same names (``Bridge.paths`` parts)."""
    seed = config.trial_seed(trial)
    pending: dict[str, list[float]] = {}
    for label, value in config.runs(extended):
        key = sequential_run_key(trial, label, value)
        if key not in done[SEQUENTIAL] or key not in done[SELECTION]:
            pending.setdefault(label, []).append(value)
    if not pending:
        return
    trained = first.state()
    after_first = {SEQUENTIAL: [(0, *first.learner.evaluate(0))],
                   SELECTION: [(0, *SelectionEvaluator(first.learner, study, config.evaluation_batch_size)(0))]}
    for label, lambdas in pending.items():
        learner = new_learner(config, study.sequence, label, seed, lambdas[0])
        measures = {} if learner.measure is None else {label: learner.measure}
        state.restore(learner.model, measures, trained, source="task A's trained state")
        if label == UNIFORM_PENALTY:
            learner.consolidate(0)
        elif label != NO_PENALTY:
            learner.model.consolidate(first.importances[label])
        start = learner.snapshot()
        selection = SelectionEvaluator(learner, study, config.evaluation_batch_size)
        for value in lambdas:
            learner.restore(start)
            learner.model.ewc_lambda = value
            base = {"trial": trial, "seed": seed, "task": study.sequence.task.name, "sequence": config.sequence,
                    "measure": label, "lambda": float(value)}
            rows = {part: _rows(base, 0, evaluations, 0.0) for part, evaluations in after_first.items()}

            def record(index, evaluations, penalty, rows=rows, base=base):
                rows[SEQUENTIAL].extend(_rows(base, index, evaluations, penalty))
                rows[SELECTION].extend(_rows(base, index, [(j, *selection(j)) for j in range(index + 1)],
                                               penalty))

            learner.run(start=1, on_task_end=record)
            key = sequential_run_key(trial, label, value)
            for part in (SELECTION, SEQUENTIAL):  # the reported part last
                if key not in done[part]:
                    sinks[part](rows[part])
                    done[part].add(key)


def _rows(base: dict, trained_task: int, evaluations, penalty: float) -> list[dict]:
    return [{**base, "trained_task": trained_task, "evaluated_task": j, "accuracy": float(accuracy),
             "loss": float(loss), "penalty": float(penalty) if not math.isnan(penalty) else math.nan}
            for j, loss, accuracy in evaluations]
