"""The grid of one measured epoch: every (measure, aggregation, scope, order, threshold) of a trained model.

Each measure is computed once; each (measure, level, method, scope, order) is ranked once
(``Aggregation.rank_groups``, over the tensors ``config.parameters`` selects), and each threshold is a cut of that
ranking assigned in place to the model's variables, then evaluated with compiled forward passes. The trained
weights are restored at the end.

Rows are handed to the sink as they are measured. An adaptive curve (``threshold_spacing="adaptive"``) is
measured whole first, since its thresholds depend on its losses (and on its ranking's removal steps,
``Experiment.removal_steps``), and its rows are handed over together with the
starting fractions last: a curve whose starting rows are recorded is complete, so resuming needs no losses from
the file. A resumed adaptive curve re-evaluates its recorded fractions (one forward pass each) to pick the same
next ones.

    grid = EpochGrid(config, trial=0, epoch=3, model=model, measures=build_measures(config, seed), ...)
    grid.run(sink=writer.append, done=recorded_keys)

Benchmarks and studies call ``EpochGrid.run`` on a trained model exactly as ``run_trial`` does.

Two models are the same for every curve of a (trial, epoch): the trained one (a threshold whose masks remove
nothing) and the fully replaced one (masks that replace every weight of the tensors ``config.parameters`` selects
and nothing else: one draw of replacement values per (trial, epoch), so the same values whatever the measure,
level, scope or order). Each is evaluated once per (trial, epoch), before the curves (its validation loss is
``chance_val_loss``), and the rows whose masks are exactly those are written from that: the same numbers as
evaluating them, since the model assigned would be the same. Any other threshold is evaluated, on every
validation example, or with ``config.validation_precision`` on as many as ``Experiment.budget`` needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import keras
import numpy as np
from tqdm.auto import tqdm

import Aggregation
import WeightImportance
from Experiment import budget
from Experiment import thresholds as grids
from Experiment.chance import warn_if_at_chance
from Experiment.config import ExperimentConfig
from Experiment.controls import base_measure, is_control, shuffled_importances
from Experiment.removal_steps import RemovalSteps
from Runs import paths
from Runs.tensorboard import TrialLog
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


def row_key(trial: int, epoch: int, combination: tuple, threshold: float) -> tuple:
    return thresholding_key(dict(zip(THRESHOLDING_KEY_COLUMNS, (trial, epoch, *combination, threshold))))


def row_keys(config: ExperimentConfig, trial: int, epoch: int, combination: tuple) -> list[tuple]:
    """The keys of one combination's rows at ``config.threshold_values()``, in threshold order."""
    return [row_key(trial, epoch, combination, threshold) for threshold in config.threshold_values()]


def expected_keys(config: ExperimentConfig, trial: int, epoch: int) -> set[tuple]:
    """The keys that every complete measured epoch has (for an adaptive grid: of the starting fractions, which
    are recorded last, so a curve that has them is complete)."""
    return {key for combination in combinations(config) for key in row_keys(config, trial, epoch, combination)}


def replaces_all_selected(masks: list[np.ndarray], selected: list[bool]) -> bool:
    """Whether ``masks`` replace every weight of the selected tensors and none other: the fully replaced model,
    the same for every curve (its validation loss is ``chance_val_loss``)."""
    return all(mask.all() if chosen else not mask.any() for mask, chosen in zip(masks, selected))


@dataclass(frozen=True)
class _SharedModel:
    """The evaluations of a model that every curve meets (f = 0 or f = 1): validation, and training subset."""

    validation: budget.Evaluated
    train: tuple[float, float]


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
        importances: importances already computed on this model, by base measure name; the measures missing
            from it are computed here (e.g. a study that judges the same importances in two ways passes them).
        log: the trial's TensorBoard log (``Runs.tensorboard``), which gets a histogram of each importance computed
            here; None: no log.
        num_classes: the task's number of classes (None: regression, or not known), for the warning given when
            the trained model is at chance (``Experiment.chance``), which the grid checks once before its rows.
        trained_validation: the trained model's validation evaluation if the caller has made it already
            (``Experiment.budget.evaluate_all(evaluate_validation, per_example=validation_precision is not None)``,
            e.g. for the TensorBoard log), so it is not made twice; None: the grid makes it.

    After ``run``: ``num_evaluations`` (validation evaluations of a model, the shared f = 0 and f = 1 models
    counted once) and ``num_examples_evaluated`` (validation and training examples through a forward pass).
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
    importances: dict[str, list[np.ndarray]] | None = None
    log: TrialLog | None = None
    num_classes: int | None = None
    trained_validation: budget.Evaluated | None = None
    num_evaluations: int = field(default=0, init=False)
    num_examples_evaluated: int = field(default=0, init=False)

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
        per_curve = config.num_thresholds if config.threshold_spacing == "adaptive" else len(thresholds)
        bar = tqdm(total=len(grid) * per_curve, desc=f"trial {self.trial} epoch {self.epoch} grid",
                   leave=False, disable=not config.progress, unit="eval")
        base_importances: dict[str, list[np.ndarray]] = dict(self.importances or {})
        per_example = config.validation_precision is not None
        try:
            selected = Aggregation.selected_tensors(model, config.parameters)
            # The two models every curve shares (module docstring): evaluated once, their rows written from that.
            Aggregation.apply_masks(model, originals, replacements,
                                    [np.full(w.shape, chosen) for w, chosen in zip(originals, selected)])
            chance = self._shared(budget.evaluate_all(self.evaluate_validation, per_example=False))
            Aggregation.restore_weights(model, originals)
            trained = self._shared(self.trained_validation if self.trained_validation is not None
                                   else budget.evaluate_all(self.evaluate_validation, per_example))
            chance_val_loss = chance.validation.loss
            bound = (budget.stopping_bound(config.validation_precision, trained.validation.loss, chance_val_loss)
                     if per_example else 0.0)
            warn_if_at_chance(self.trial, self.epoch, trained.validation.loss, trained.validation.accuracy,
                              chance_val_loss, self.num_classes)
            for combination in grid:
                measure, level, method, scope, order = combination
                keys = row_keys(config, self.trial, self.epoch, combination)
                if all(key in done for key in keys):
                    bar.update(per_curve)
                    continue
                base = base_measure(measure)
                if base not in base_importances:
                    Aggregation.restore_weights(model, originals)
                    base_importances[base] = self.measures[base].compute(model, self.importance_data)
                    if config.save_importances:
                        self._save(base, base_importances[base])
                    if self.log is not None:
                        self.log.importances(self.epoch, base, [v.path for v in model.trainable_weights],
                                             base_importances[base])
                importances = base_importances[base]
                if is_control(measure):
                    importances = shuffled_importances(importances, seed)
                ranking = Aggregation.rank_groups(model, importances, level=level,
                                                  method="mean" if method == NO_AGGREGATION else method,
                                                  scope=scope, order=order, seed=seed, parameters=config.parameters)

                def evaluate(threshold: float, ranking=ranking, combination=combination) -> dict:
                    masks = ranking.masks(threshold)
                    removed = Aggregation.ThresholdResult.from_masks(masks, ranking.selected)
                    shared = (trained if removed.num_removed == 0 else
                              chance if replaces_all_selected(masks, selected) else None)
                    if shared is not None:
                        validation, (loss, accuracy) = shared.validation, shared.train
                    else:
                        Aggregation.apply_masks(model, originals, replacements, masks)
                        validation = (budget.estimate(self.evaluate_validation, trained.validation, bound)
                                      if per_example else budget.evaluate_all(self.evaluate_validation, False))
                        self.num_evaluations += 1
                        self.num_examples_evaluated += validation.num_examples
                        loss, accuracy = self._evaluate_train()
                    bar.update(1)
                    measure, level, method, scope, order = combination
                    return {
                        "trial": self.trial, "seed": seed, "task": self.task_name, "epoch": self.epoch,
                        "measure": measure, "aggregation_level": level, "aggregation_method": method,
                        "scope": scope, "order": order, "parameters": config.parameters,
                        "replacement": config.replacement, "threshold": threshold,
                        "fraction_removed": removed.fraction_removed, "loss": loss, "accuracy": accuracy,
                        "val_loss": validation.loss, "val_accuracy": validation.accuracy,
                        "chance_val_loss": chance_val_loss, "num_val_examples_used": validation.num_examples,
                    }

                if config.threshold_spacing == "adaptive":
                    rows = self._adaptive_curve(combination, evaluate, RemovalSteps(ranking), done)
                    sink(rows)
                    done.update(row_key(self.trial, self.epoch, combination, row["threshold"]) for row in rows)
                    continue
                for threshold, key in zip(thresholds, keys):
                    if key in done:
                        bar.update(1)
                        continue
                    sink([evaluate(threshold)])
                    done.add(key)
        finally:
            Aggregation.restore_weights(model, originals)
            bar.close()

    def _shared(self, validation: budget.Evaluated) -> _SharedModel:
        """A model every curve meets, as its weights are now: its validation evaluation and its training loss."""
        self.num_evaluations += 1
        self.num_examples_evaluated += validation.num_examples
        return _SharedModel(validation, self._evaluate_train())

    def _evaluate_train(self) -> tuple[float, float]:
        num_examples = getattr(self.evaluate_train, "num_examples", 0)
        self.num_examples_evaluated += num_examples
        return self.evaluate_train()

    def _adaptive_curve(self, combination: tuple, evaluate: Callable[[float], dict], steps: RemovalSteps,
                        done: set) -> list[dict]:
        """The rows of one adaptive curve not yet in ``done``, the starting fractions last (module docstring)."""
        measured = {threshold: evaluate(threshold) for threshold in grids.ADAPTIVE_START}
        points = {threshold: (row["fraction_removed"], row["val_loss"]) for threshold, row in measured.items()}
        while (threshold := grids.next_adaptive(points, self.config.num_thresholds, self.config.adaptive_tolerance,
                                                steps.between)) is not None:
            measured[threshold] = evaluate(threshold)
            points[threshold] = (measured[threshold]["fraction_removed"], measured[threshold]["val_loss"])
        order = sorted(measured, key=lambda t: (t in grids.ADAPTIVE_START, t))
        return [measured[t] for t in order if row_key(self.trial, self.epoch, combination, t) not in done]

    def _save(self, measure: str, importances: list[np.ndarray]) -> None:
        """Keep one measure's importances beside the results (``config.save_importances``)."""
        WeightImportance.save_importances(
            paths.importances_file(self.config.results_csv, self.trial, self.epoch, measure), self.model,
            importances, measure=measure, options=self.config.measure_options.get(measure, {}),
            task=self.task_name, trial=self.trial, epoch=self.epoch, seed=self.config.trial_seed(self.trial))
