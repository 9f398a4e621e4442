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
from Experiment.results import thresholding_row
from Runs.results import RowSink
from Schema import NO_AGGREGATION, THRESHOLDING_KEY_COLUMNS, thresholding_key
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
        measures: measure objects by label (``Experiment.measures.build_measures``), the ``measure`` column's
            values less the control prefix (``fisher``, ``fisher@sampled``).
        importance_data: the ``(x, y)`` given to the measures that need data.
        evaluate_validation, evaluate_train: ``() -> (loss, accuracy)`` of the model as it is, on the validation
            examples and on the training subset.
        importances: importances already computed on this model, by label; the labels missing from it are
            computed here (e.g. a study that judges the same importances in two ways passes them).
        importances_computed: called as ``(label, importances)`` with each label's importances computed here, before
            its rows (the trial saves them, ``save_importances``, and logs their histograms); None: nothing.
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
    importances_computed: Callable[[str, list[np.ndarray]], None] | None = None
    num_classes: int | None = None
    trained_validation: budget.Evaluated | None = None
    num_evaluations: int = field(default=0, init=False)
    num_examples_evaluated: int = field(default=0, init=False)

    def run(self, sink: RowSink, done: set | None = None) -> None:
        """Evaluate every combination and threshold whose key is not in ``done``, handing each row to ``sink``
        (and adding its key to ``done``), then restore the trained weights."""
        done = set() if done is None else done
        config, model = self.config, self.model
        self._originals = Aggregation.get_weights(model)
        # One draw of replacement values per (trial, epoch): every measure replaces a weight by the same value,
        # so the curves differ only in which weights they remove, and all meet at the chance level at f = 1.
        self._replacements = Aggregation.replacement_values(self._originals, config.replacement,
                                                            seed=config.trial_seed(self.trial) * 100_003 + self.epoch)
        self._importances = dict(self.importances or {})
        grid = list(combinations(config))
        per_curve = config.num_thresholds if config.threshold_spacing == "adaptive" else len(config.threshold_values())
        bar = tqdm(total=len(grid) * per_curve, desc=f"trial {self.trial} epoch {self.epoch} grid",
                   leave=False, disable=not config.progress, unit="eval")
        try:
            self._evaluate_shared_models()
            for combination in grid:
                keys = row_keys(config, self.trial, self.epoch, combination)
                if all(key in done for key in keys):
                    bar.update(per_curve)
                    continue
                ranking = self._ranking(combination)

                def evaluate(threshold: float, ranking=ranking, combination=combination) -> dict:
                    bar.update(1)
                    return self._row(combination, ranking, threshold)

                if config.threshold_spacing == "adaptive":
                    rows = self._adaptive_curve(combination, evaluate, RemovalSteps(ranking), done)
                    sink(rows)
                    done.update(row_key(self.trial, self.epoch, combination, row["threshold"]) for row in rows)
                    continue
                for threshold, key in zip(config.threshold_values(), keys):
                    if key in done:
                        bar.update(1)
                        continue
                    sink([evaluate(threshold)])
                    done.add(key)
        finally:
            Aggregation.restore_weights(model, self._originals)
            bar.close()

    def _evaluate_shared_models(self) -> None:
        """The two models every curve meets (module docstring), evaluated once: the fully replaced one
        (``chance_val_loss``) and the trained one; the stopping bound of the other rows; the at-chance warning."""
        config, model = self.config, self.model
        self._selected = Aggregation.selected_tensors(model, config.parameters)
        Aggregation.apply_masks(model, self._originals, self._replacements,
                                [np.full(w.shape, chosen) for w, chosen in zip(self._originals, self._selected)])
        self._chance = self._shared(budget.evaluate_all(self.evaluate_validation, per_example=False))
        Aggregation.restore_weights(model, self._originals)
        per_example = config.validation_precision is not None
        self._trained = self._shared(self.trained_validation if self.trained_validation is not None
                                     else budget.evaluate_all(self.evaluate_validation, per_example))
        self._bound = (budget.stopping_bound(config.validation_precision, self._trained.validation.loss,
                                             self._chance.validation.loss) if per_example else None)
        warn_if_at_chance(self.trial, self.epoch, self._trained.validation.loss, self._trained.validation.accuracy,
                          self._chance.validation.loss, self.num_classes)

    def _ranking(self, combination: tuple) -> Aggregation.Ranking:
        """The ranking of one combination, from its label's importances (computed on the trained model the first
        time a label is met, and handed to ``importances_computed``)."""
        measure, level, method, scope, order = combination
        label = base_measure(measure)
        if label not in self._importances:
            Aggregation.restore_weights(self.model, self._originals)
            self._importances[label] = self.measures[label].compute(self.model, self.importance_data)
            if self.importances_computed is not None:
                self.importances_computed(label, self._importances[label])
        importances = self._importances[label]
        seed = self.config.trial_seed(self.trial)
        if is_control(measure):
            importances = shuffled_importances(importances, seed)
        return Aggregation.rank_groups(self.model, importances, level=level,
                                       method="mean" if method == NO_AGGREGATION else method, scope=scope,
                                       order=order, seed=seed, parameters=self.config.parameters)

    def _row(self, combination: tuple, ranking: Aggregation.Ranking, threshold: float) -> dict:
        """The row of one threshold of one combination: the model thresholded and evaluated, or the shared
        model's evaluation where the masks are the trained or the fully replaced model's."""
        masks = ranking.masks(threshold)
        removed = Aggregation.ThresholdResult.from_masks(masks, ranking.selected)
        shared = (self._trained if removed.num_removed == 0 else
                  self._chance if replaces_all_selected(masks, self._selected) else None)
        if shared is not None:
            validation, train = shared.validation, shared.train
        else:
            Aggregation.apply_masks(self.model, self._originals, self._replacements, masks)
            validation = (budget.estimate(self.evaluate_validation, self._trained.validation, self._bound)
                          if self._bound is not None else budget.evaluate_all(self.evaluate_validation, False))
            self.num_evaluations += 1
            self.num_examples_evaluated += validation.num_examples
            train = self._evaluate_train()
        return thresholding_row(self.config, self.trial, self.epoch, self.task_name, combination, threshold,
                                removed.fraction_removed, train, validation, self._chance.validation.loss)

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
