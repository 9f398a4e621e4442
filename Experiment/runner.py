"""Run a thresholding experiment: train epoch by epoch, and after each measured epoch score every weight with
every measure and evaluate every (measure, aggregation, scope, order, threshold) combination.

Per measured epoch, each measure is computed once; each (measure, level, method, scope, order) is ranked once
(``Aggregation.rank_groups``), and each threshold is a cut of that ranking assigned in place to the model's
variables, then evaluated with compiled forward passes. The trained weights are restored before training goes on.

Each trial is a plain function of (configuration, trial index): ``run_trial(config, trial)``. Rows are appended
and flushed after every evaluation; the state at each measured epoch is checkpointed, so running the same
configuration again skips what is recorded and goes on where the run stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import Aggregation
import Tasks
import WeightImportance
from Experiment import paths
from Experiment.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
from Experiment.config import ExperimentConfig
from Experiment.controls import base_measure, is_control, shuffled_importances
from Experiment.evaluation import Evaluator
from Experiment.progress import BatchProgress
from Experiment.records import check_or_save_config
from Experiment.results import KEY_COLUMNS, ResultsWriter, read_keys, row_key

RowSink = Callable[[list[dict]], None]


def run_experiment(config: ExperimentConfig) -> Path:
    """Run (or resume) every trial of ``config``; returns the path of the results CSV."""
    from Experiment.trials import run_trials

    return run_trials(config)


def prepare_results(config: ExperimentConfig) -> None:
    """Save the configuration beside the results, or check it against the one already there."""
    check_or_save_config(config, paths.results_csv(config.results_csv), paths.config_json(config.results_csv))


def _measure_objects(config: ExperimentConfig, seed: int) -> dict[str, WeightImportance.ImportanceMeasure]:
    """One object per measure whose importances are needed (controls share their base measure's object)."""
    measures = {}
    for name in config.measure_names():
        base = base_measure(name)
        if base in measures:
            continue
        options = dict(config.measure_options.get(base, {}))
        if "seed" in WeightImportance.measure_options(base):
            options.setdefault("seed", seed)
        measures[base] = WeightImportance.get_measure(base, **options)
    return measures


def _grid(config: ExperimentConfig):
    """(measure, level, method, scope, order) combinations in the order they are evaluated."""
    for measure in config.measure_names():
        for level, method in config.aggregations():
            for scope in config.scopes:
                for order in config.orders:
                    yield measure, level, method, scope, order


def expected_keys(config: ExperimentConfig, trial: int, epoch: int) -> set[tuple]:
    keys = set()
    for combination in _grid(config):
        for threshold in config.threshold_values():
            keys.add(row_key(dict(zip(KEY_COLUMNS, (trial, epoch, *combination, threshold)))))
    return keys


def run_trial(config: ExperimentConfig, trial: int, sink: RowSink | None = None, done: set | None = None) -> None:
    """Run (or resume) trial ``trial`` of ``config``: a plain function of its arguments and the files it writes.

    ``sink`` receives each new batch of rows (default: appended to ``config.results_csv``); ``done`` is the set
    of row keys already recorded (default: read from ``config.results_csv``).
    """
    seed = config.trial_seed(trial)
    if sink is None:
        sink = ResultsWriter(config.results_csv).append
    if done is None:
        done = read_keys(config.results_csv)
    done = {key for key in done if key[0] == trial}
    measured = config.measured_epochs()
    if all(expected_keys(config, trial, epoch) <= done for epoch in measured):
        return

    task = Tasks.get_task(config.task, seed=seed, **config.task_options)
    model = task.model
    measures = _measure_objects(config, seed)
    callbacks = [callback for measure in measures.values() for callback in measure.callbacks()]

    x_train, y_train = task.train
    validation = tuple(a[: config.num_validation_examples] for a in task.validation)
    train_subset = tuple(a[: config.num_train_examples] for a in task.train)
    importance_data = tuple(a[: config.num_importance_examples] for a in task.train)
    classification = task.num_classes is not None
    evaluate_validation = Evaluator(model, task.loss, validation, config.evaluation_batch_size, classification)
    evaluate_train = Evaluator(model, task.loss, train_subset, config.evaluation_batch_size, classification)

    start = 0
    checkpoint = latest_checkpoint(config.results_csv, trial)
    if checkpoint is not None:
        start, file = checkpoint
        load_checkpoint(file, model, measures)
        if not expected_keys(config, trial, start) <= done:
            _measure_epoch(config, trial, start, task, model, measures, importance_data, evaluate_validation,
                           evaluate_train, sink, done)

    batch_size = config.batch_size or task.batch_size
    steps = math.ceil(len(x_train) / batch_size)
    epochs = tqdm(range(start + 1, config.epochs + 1), desc=f"trial {trial} epochs", initial=start,
                  total=config.epochs, disable=not config.progress, unit="epoch")
    for epoch in epochs:
        order = np.random.default_rng([seed, epoch]).permutation(len(x_train))
        history = model.fit(
            x_train[order], y_train[order], batch_size=batch_size, epochs=epoch, initial_epoch=epoch - 1,
            shuffle=False, verbose=0,
            callbacks=[*callbacks, BatchProgress(steps, f"epoch {epoch}", config.progress)],
        )
        epochs.set_postfix(loss=f"{history.history['loss'][-1]:.4f}")
        if epoch in measured:
            save_checkpoint(config.results_csv, trial, epoch, model, measures)
            _measure_epoch(config, trial, epoch, task, model, measures, importance_data, evaluate_validation,
                           evaluate_train, sink, done)
    epochs.close()


def _measure_epoch(config, trial, epoch, task, model, measures, importance_data, evaluate_validation,
                   evaluate_train, sink, done) -> None:
    """Evaluate every combination and threshold not yet recorded, then restore the trained weights."""
    seed = config.trial_seed(trial)
    thresholds = config.threshold_values()
    originals = Aggregation.get_weights(model)
    # One draw of replacement values per (trial, epoch): every measure replaces a weight by the same value,
    # so the curves differ only in which weights they remove, and all meet at the chance level at f = 1.
    replacements = Aggregation.replacement_values(originals, config.replacement, seed=seed * 100_003 + epoch)
    grid = list(_grid(config))
    bar = tqdm(total=len(grid) * len(thresholds), desc=f"trial {trial} epoch {epoch} grid", leave=False,
               disable=not config.progress, unit="eval")
    base_importances: dict[str, list[np.ndarray]] = {}
    try:
        Aggregation.apply_masks(model, originals, replacements, [np.ones(w.shape, bool) for w in originals])
        chance_val_loss, _ = evaluate_validation()
        for measure, level, method, scope, order in grid:
            keys = [row_key(dict(zip(KEY_COLUMNS, (trial, epoch, measure, level, method, scope, order, t))))
                    for t in thresholds]
            if all(key in done for key in keys):
                bar.update(len(thresholds))
                continue
            base = base_measure(measure)
            if base not in base_importances:
                Aggregation.restore_weights(model, originals)
                base_importances[base] = measures[base].compute(model, importance_data)
            importances = base_importances[base]
            if is_control(measure):
                importances = shuffled_importances(importances, seed)
            ranking = Aggregation.rank_groups(model, importances, level=level,
                                              method="mean" if method == "none" else method,
                                              scope=scope, order=order, seed=seed)
            for threshold, key in zip(thresholds, keys):
                bar.update(1)
                if key in done:
                    continue
                masks = ranking.masks(threshold)
                Aggregation.apply_masks(model, originals, replacements, masks)
                removed = Aggregation.ThresholdResult.from_masks(masks)
                val_loss, val_accuracy = evaluate_validation()
                loss, accuracy = evaluate_train()
                sink([{
                    "trial": trial, "seed": seed, "task": task.name, "epoch": epoch, "measure": measure,
                    "aggregation_level": level, "aggregation_method": method, "scope": scope, "order": order,
                    "replacement": config.replacement, "threshold": threshold,
                    "fraction_removed": removed.fraction_removed, "loss": loss, "accuracy": accuracy,
                    "val_loss": val_loss, "val_accuracy": val_accuracy, "chance_val_loss": chance_val_loss,
                }])
                done.add(key)
    finally:
        Aggregation.restore_weights(model, originals)
        bar.close()
