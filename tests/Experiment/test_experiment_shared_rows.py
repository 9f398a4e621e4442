"""The models every curve meets (nothing removed; every thresholded parameter replaced) are evaluated once per
(trial, epoch), and the rows written from that are bit-identical to evaluating each row's own masks."""

from __future__ import annotations

import numpy as np
import pytest

import Aggregation
import Tasks
from Experiment import EpochGrid, build_measures
from Experiment.controls import base_measure, is_control, shuffled_importances
from Runs.evaluation import Evaluator
from Schema import NO_AGGREGATION


class Counting:
    """An evaluator that counts its calls."""

    def __init__(self, evaluator):
        self.evaluator, self.calls = evaluator, 0
        self.num_examples = evaluator.num_examples

    def __call__(self):
        self.calls += 1
        return self.evaluator()


@pytest.fixture(scope="module")
def trained():
    task = Tasks.get_task("digits", seed=0)
    x, y = task.train
    task.model.fit(x, y, batch_size=32, epochs=5, verbose=0)
    return task


def grid_rows(task, config):
    validation = tuple(a[:200] for a in task.validation)
    train = tuple(a[:100] for a in task.train)
    evaluate_validation = Counting(Evaluator(task.model, task.loss, validation))
    evaluate_train = Counting(Evaluator(task.model, task.loss, train))
    rows: list[dict] = []
    grid = EpochGrid(config, 0, 1, task.name, task.model, build_measures(config, config.trial_seed(0)),
                     tuple(a[:200] for a in task.train), evaluate_validation, evaluate_train)
    grid.run(rows.extend)
    return rows, evaluate_validation, evaluate_train, grid


def own_evaluation(task, config, row):
    """The row's model evaluated from its own masks, as every row was before the shared models."""
    model = task.model
    seed = config.trial_seed(0)
    originals = Aggregation.get_weights(model)
    replacements = Aggregation.replacement_values(originals, config.replacement, seed=seed * 100_003 + 1)
    importances = build_measures(config, seed)[base_measure(row["measure"])].compute(model, tuple(
        a[:200] for a in task.train))
    if is_control(row["measure"]):
        importances = shuffled_importances(importances, seed)
    method = row["aggregation_method"]
    ranking = Aggregation.rank_groups(model, importances, level=row["aggregation_level"],
                                      method="mean" if method == NO_AGGREGATION else method, scope=row["scope"],
                                      order=row["order"], seed=seed, parameters=config.parameters)
    try:
        Aggregation.apply_masks(model, originals, replacements, ranking.masks(row["threshold"]))
        val = Evaluator(model, task.loss, tuple(a[:200] for a in task.validation))()
        train = Evaluator(model, task.loss, tuple(a[:100] for a in task.train))()
    finally:
        Aggregation.restore_weights(model, originals)
    return (*val, *train)


@pytest.mark.parametrize("parameters", ["all", "kernels"])
def test_the_rows_at_0_and_1_are_evaluated_once_and_equal_their_own_evaluation(trained, make_config, tmp_path,
                                                                                parameters):
    config = make_config(tmp_path / "r.csv", epochs=1, measures=["magnitude", "shuffled:magnitude"],
                         aggregation_levels=["weight", "unit"], scopes=["layer", "model"],
                         orders=["least", "most"], num_thresholds=5, parameters=parameters,
                         validation_precision=None)
    rows, validation, train, grid = grid_rows(trained, config)
    num_curves = 3 * 2 * 2 * 2
    assert len(rows) == num_curves * 5
    # The trained and the fully replaced model once each, then the 3 inner thresholds of every curve.
    assert validation.calls == 2 + num_curves * 3
    assert train.calls == 2 + num_curves * 3
    assert grid.num_evaluations == validation.calls
    assert grid.num_examples_evaluated == validation.calls * 200 + train.calls * 100
    ends = [row for row in rows if row["threshold"] in (0.0, 1.0)]
    assert len(ends) == num_curves * 2
    for row in ends + rows[1:4]:  # the shared rows, and evaluated ones for comparison
        own = own_evaluation(trained, config, row)
        assert (row["val_loss"], row["val_accuracy"], row["loss"], row["accuracy"]) == own, row
        assert row["fraction_removed"] == row["threshold"] or row not in ends
    at_one = [row for row in ends if row["threshold"] == 1.0]
    assert all(row["val_loss"] == row["chance_val_loss"] for row in at_one)
