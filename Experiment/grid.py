"""The grid of one measured epoch: every (measure, aggregation, scope, order, threshold) of a trained model.

Each measure is computed once; each (measure, level, method, scope, order) is ranked once
(``Aggregation.rank_groups``), and each threshold is a cut of that ranking assigned in place to the model's
variables, then evaluated with compiled forward passes. The trained weights are restored at the end.

    grid = EpochGrid(config, trial=0, epoch=3, model=model, measures=build_measures(config, seed), ...)
    grid.run(sink=writer.append, done=recorded_keys)

Benchmarks and studies call ``EpochGrid.run`` on a trained model exactly as ``run_trial`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import keras
import numpy as np
from tqdm.auto import tqdm

import Aggregation
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.controls import base_measure, is_control, shuffled_importances
from Schema import NO_AGGREGATION, THRESHOLDING_KEY_COLUMNS, thresholding_key

RowSink = Callable[[list[dict]], None]
# () -> (mean loss, accuracy) of the model as it is now; see Runs.evaluation.Evaluator.
Evaluation = Callable[[], tuple[float, float]]


def combinations(config: ExperimentConfig) -> Iterator[tuple[str, str, str, str, str]]:
    """(measure, level, method, scope, order) combinations in the order they are evaluated."""
    for measure in config.measure_names():
        for level, method in config.aggregations():
            for scope in config.scopes:
                for order in config.orders:
                    yield measure, level, method, scope, order


def row_keys(config: ExperimentConfig, trial: int, epoch: int, combination: tuple) -> list[tuple]:
    """The keys of one combination's rows, one per threshold, in threshold order."""
    return [thresholding_key(dict(zip(THRESHOLDING_KEY_COLUMNS, (trial, epoch, *combination, threshold))))
            for threshold in config.threshold_values()]


def expected_keys(config: ExperimentConfig, trial: int, epoch: int) -> set[tuple]:
    """The keys of every row of one measured epoch."""
    return {key for combination in combinations(config) for key in row_keys(config, trial, epoch, combination)}


@dataclass
class EpochGrid:
    """What one measured epoch of one trial needs.

    Attributes:
        config: the experiment's configuration (the grid, thresholds, replacement).
        trial, epoch: which rows these are; the trial's seed (``config.trial_seed``) seeds the shuffled controls,
            tie-breaks and, with the epoch, the replacement values.
        task_name: the value of the ``task`` column.
        model: the trained model, thresholded in place and restored at the end.
        measures: measure objects by base name (``Experiment.measures.build_measures``).
        importance_data: the ``(x, y)`` given to the measures that need data.
        evaluate_validation, evaluate_train: ``() -> (loss, accuracy)`` of the model as it is, on the validation
            examples and on the training subset.
    """

    config: ExperimentConfig
    trial: int
    epoch: int
    task_name: str
    model: keras.Model
    measures: dict[str, WeightImportance.ImportanceMeasure]
    importance_data: tuple
    evaluate_validation: Evaluation
    evaluate_train: Evaluation

    def run(self, sink: RowSink, done: set | None = None) -> None:
        """Evaluate every combination and threshold whose key is not in ``done``, handing each row to ``sink``
        (and adding its key to ``done``), then restore the trained weights."""
        done = set() if done is None else done
        config, model = self.config, self.model
        seed = config.trial_seed(self.trial)
        thresholds = config.threshold_values()
        originals = Aggregation.get_weights(model)
        # One draw of replacement values per (trial, epoch): every measure replaces a weight by the same value,
        # so the curves differ only in which weights they remove, and all meet at the chance level at f = 1.
        replacements = Aggregation.replacement_values(originals, config.replacement,
                                                      seed=seed * 100_003 + self.epoch)
        grid = list(combinations(config))
        bar = tqdm(total=len(grid) * len(thresholds), desc=f"trial {self.trial} epoch {self.epoch} grid",
                   leave=False, disable=not config.progress, unit="eval")
        base_importances: dict[str, list[np.ndarray]] = {}
        try:
            Aggregation.apply_masks(model, originals, replacements, [np.ones(w.shape, bool) for w in originals])
            chance_val_loss, _ = self.evaluate_validation()
            for combination in grid:
                measure, level, method, scope, order = combination
                keys = row_keys(config, self.trial, self.epoch, combination)
                if all(key in done for key in keys):
                    bar.update(len(thresholds))
                    continue
                base = base_measure(measure)
                if base not in base_importances:
                    Aggregation.restore_weights(model, originals)
                    base_importances[base] = self.measures[base].compute(model, self.importance_data)
                importances = base_importances[base]
                if is_control(measure):
                    importances = shuffled_importances(importances, seed)
                ranking = Aggregation.rank_groups(model, importances, level=level,
                                                  method="mean" if method == NO_AGGREGATION else method,
                                                  scope=scope, order=order, seed=seed)
                for threshold, key in zip(thresholds, keys):
                    bar.update(1)
                    if key in done:
                        continue
                    masks = ranking.masks(threshold)
                    Aggregation.apply_masks(model, originals, replacements, masks)
                    removed = Aggregation.ThresholdResult.from_masks(masks)
                    val_loss, val_accuracy = self.evaluate_validation()
                    loss, accuracy = self.evaluate_train()
                    sink([{
                        "trial": self.trial, "seed": seed, "task": self.task_name, "epoch": self.epoch,
                        "measure": measure, "aggregation_level": level, "aggregation_method": method,
                        "scope": scope, "order": order, "replacement": config.replacement, "threshold": threshold,
                        "fraction_removed": removed.fraction_removed, "loss": loss, "accuracy": accuracy,
                        "val_loss": val_loss, "val_accuracy": val_accuracy, "chance_val_loss": chance_val_loss,
                    }])
                    done.add(key)
        finally:
            Aggregation.restore_weights(model, originals)
            bar.close()
