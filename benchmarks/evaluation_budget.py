"""What the evaluation budget saves and what it costs: the default main job's grid with full evaluation (every
validation example and 1000 training examples at every threshold, the defaults before ``validation_precision``)
against the same grid with no training loss and ``validation_precision = p``, on one trained model.

Per task (``digits``, ``fashion_mnist``), seed 0, the default configuration (``ExperimentConfig()``: 3 measures +
random, levels weight and unit, 11 linear thresholds) is trained for ``--epochs`` epochs exactly as
``run_trial`` trains it, timed; then the runner's ``Experiment.EpochGrid`` runs on that model once per setting,
timed. Per setting: grid seconds, grid / training, validation evaluations, examples evaluated, and over every
curve the largest |Δ normalised AUC| and |Δ largest fraction within tolerance| against full evaluation
(``Analysis.metrics``). The setting chosen is the cheapest whose |Δ normalised AUC| is at most 0.01.

    python benchmarks/evaluation_budget.py [--tasks digits fashion_mnist] [--precisions 0.005 0.01 0.02]
                                           [--epochs 1] [--repeats 1] [--out FILE.json]
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import math
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import Tasks
from Analysis.metrics import trial_metrics
from Experiment import EpochGrid, ExperimentConfig, build_measures
from Runs.evaluation import Evaluator
from Runs.training import fit_epoch

CURVE = ["measure", "aggregation_level", "aggregation_method", "scope", "order"]
LIMIT = 0.01
# Full evaluation: the defaults before the evaluation budget.
FULL = {"validation_precision": None, "num_train_loss_examples": 1000}


def train(config: ExperimentConfig):
    """The task, its model trained as ``run_trial`` trains it (measures' callbacks included), the measures, and the
    training seconds."""
    seed = config.trial_seed(0)
    task = Tasks.get_task(config.task, seed=seed, **config.task_options)
    measures = build_measures(config, seed)
    callbacks = [callback for measure in measures.values() for callback in measure.callbacks()]
    x, y = task.train
    start = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        fit_epoch(task.model, x, y, batch_size=config.batch_size or task.batch_size, order_key=[seed, epoch],
                  epoch=epoch, callbacks=callbacks)
    return task, measures, time.perf_counter() - start


def run_grid(task, measures, config: ExperimentConfig) -> tuple[pd.DataFrame, float, EpochGrid]:
    """One grid on the trained model with the evaluators ``run_trial`` builds for ``config``; (rows, seconds)."""
    seed = config.trial_seed(0)
    classification = task.num_classes is not None
    validation = tuple(a[: config.num_validation_examples] for a in task.validation)
    evaluate_validation = Evaluator(task.model, task.loss, validation, config.evaluation_batch_size, classification,
                                    order_seed=seed if config.validation_precision is not None else None)
    evaluate_train = Evaluator(task.model, task.loss, tuple(a[: config.num_train_loss_examples] for a in task.train),
                               config.evaluation_batch_size, classification)
    rows: list[dict] = []
    grid = EpochGrid(config, 0, config.epochs, task.name, task.model, measures,
                     tuple(a[: config.num_importance_examples] for a in task.train), evaluate_validation,
                     evaluate_train, num_classes=task.num_classes)
    start = time.perf_counter()
    grid.run(rows.extend)
    return pd.DataFrame(rows), time.perf_counter() - start, grid


def differences(full: pd.DataFrame, other: pd.DataFrame) -> dict:
    a, b = (trial_metrics(rows).set_index(CURVE) for rows in (full, other))
    b = b.loc[a.index]
    auc = (a.normalized_auc - b.normalized_auc).abs()
    tolerance = (a.max_fraction_within_tolerance - b.max_fraction_within_tolerance).abs()
    return {"max_abs_delta_normalized_auc": float(auc.max()),
            "median_abs_delta_normalized_auc": float(auc.median()),
            "max_abs_delta_tolerance_fraction": float(tolerance.max()),
            "num_curves": int(len(a))}


def measure_task(task_name: str, epochs: int, precisions: list[float], repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        base = dict(task=task_name, epochs=epochs, progress=False, results_csv=f"{folder}/r.csv")
        configs = {"full": ExperimentConfig(**base, **FULL)}
        for p in precisions:
            configs[f"p={p:g}"] = ExperimentConfig(**base, validation_precision=p, num_train_loss_examples=0)
        task, measures, training_seconds = train(configs["full"])
        results: dict[str, dict] = {}
        full_rows = None
        for repeat in range(repeats):
            for name, config in configs.items():
                rows, seconds, grid = run_grid(task, measures, config)
                entry = results.setdefault(name, {"grid_seconds": [], "validation_precision":
                                                  config.validation_precision,
                                                  "num_train_loss_examples": config.num_train_loss_examples})
                entry["grid_seconds"].append(seconds)
                entry.update(num_evaluations=grid.num_evaluations, num_examples_evaluated=grid.num_examples_evaluated,
                             num_rows=len(rows))
                if name == "full":
                    full_rows = rows if full_rows is None else full_rows
                else:
                    entry.update(differences(full_rows, rows))
                    used = rows.num_val_examples_used
                    entry["mean_val_examples_per_row"] = float(used.mean())
        for entry in results.values():
            entry["grid_seconds_median"] = statistics.median(entry["grid_seconds"])
            entry["grid_over_training"] = entry["grid_seconds_median"] / training_seconds
        within = [name for name, e in results.items() if name != "full" and e["max_abs_delta_normalized_auc"] <= LIMIT]
        chosen = min(within, key=lambda n: results[n]["num_examples_evaluated"]) if within else None
        return {"task": task_name, "epochs": epochs, "training_seconds": training_seconds,
                "num_validation_examples": len(task.validation[0]),
                "trained_val_loss": float(full_rows.val_loss[full_rows.threshold == 0].iloc[0]),
                "chance_val_loss": float(full_rows.chance_val_loss.iloc[0]),
                "settings": results, "cheapest_within_limit": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["digits", "fashion_mnist"])
    parser.add_argument("--precisions", nargs="+", type=float, default=[0.005, 0.01, 0.02, 0.05])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import os

    report = {"machine": {"processor": platform.processor(), "cpu_count": os.cpu_count()},
              "limit_abs_delta_normalized_auc": LIMIT,
              "tasks": [measure_task(t, args.epochs, args.precisions, args.repeats) for t in args.tasks]}
    text = json.dumps(report, indent=2, default=lambda v: None if isinstance(v, float) and math.isnan(v) else v)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
