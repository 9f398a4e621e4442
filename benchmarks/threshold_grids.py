"""How many evaluations a curve needs: the 11-point linear grid and the adaptive grid against a dense 101-point
linear grid taken as the truth.

On the trained default model of ``digits`` and of ``fashion_mnist`` (when its files are installed), for
``magnitude``, ``fisher`` and ``random`` in both orders (weight level, scope layer, noise replacement), every
grid runs through the runner's own ``Experiment.EpochGrid``. Per curve and grid: the absolute error of the
normalised AUC and of the largest fraction removed within 5 % of the trained loss (``Analysis.metrics``) against
the dense grid, and the number of evaluations. Target: the adaptive grid with at most 16 evaluations per curve
has both errors at most 0.01 on every curve, i.e. the dense grid's answer for at most a sixth of its evaluations.

    python benchmarks/threshold_grids.py [--quick] [--tasks digits fashion_mnist] [--out FILE.json]
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

import Tasks
from Analysis.metrics import DEFAULT_TOLERANCE, max_fraction_within_tolerance, normalized_auc
from Experiment import EpochGrid, ExperimentConfig, build_measures
from Runs.evaluation import Evaluator
from Runs.training import fit_epoch
from benchmarks import common

MEASURES = ["magnitude", "fisher"]  # random is always run
TRUTH = ("linear", 101)
GRIDS = [("linear", 11), ("adaptive", 8), ("adaptive", 12), ("adaptive", 16)]
TARGET_GRID, LIMIT = ("adaptive", 16), 0.01
CURVE = ["measure", "order"]


def trained_task(name: str, epochs: int, num_examples: int | None, seed: int = 0):
    task = Tasks.get_task(name, seed=seed)
    x, y = (a[:num_examples] for a in task.train)
    for epoch in range(1, epochs + 1):
        fit_epoch(task.model, x, y, batch_size=task.batch_size, order_key=[seed, epoch], epoch=epoch)
    return task


def curves(task, grid: tuple[str, int], num_validation: int, num_importance: int) -> pd.DataFrame:
    """The rows of every curve of ``grid`` on the trained model, through the runner's EpochGrid."""
    spacing, count = grid
    with tempfile.TemporaryDirectory() as folder:
        config = ExperimentConfig(task=task.name, measures=MEASURES, aggregation_levels=["weight"],
                                  orders=["least", "most"], threshold_spacing=spacing, num_thresholds=count,
                                  num_validation_examples=num_validation, validation_precision=None,
                                  num_train_loss_examples=0,
                                  num_importance_examples=num_importance, progress=False,
                                  results_csv=f"{folder}/grid.csv")
    validation = tuple(a[:num_validation] for a in task.validation)
    rows: list[dict] = []
    EpochGrid(config, 0, 1, task.name, task.model, build_measures(config, config.trial_seed(0)),
              tuple(a[:num_importance] for a in task.train),
              Evaluator(task.model, task.loss, validation), lambda: (np.nan, np.nan)).run(rows.extend)
    return pd.DataFrame(rows)


def metrics(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (measure, order), curve in rows.groupby(CURVE):
        curve = curve.sort_values("fraction_removed")
        initial = float(curve.val_loss[curve.threshold == 0].iloc[0])
        chance = float(curve.chance_val_loss.iloc[0])
        out.append({
            "measure": measure, "order": order, "num_evaluations": len(curve),
            "normalized_auc": normalized_auc(curve.fraction_removed, curve.val_loss, initial, chance),
            "fraction_within_tolerance": max_fraction_within_tolerance(curve.fraction_removed, curve.val_loss,
                                                                       initial, DEFAULT_TOLERANCE),
        })
    return pd.DataFrame(out).set_index(CURVE)


def compare(task, num_validation: int, num_importance: int) -> dict:
    started = time.perf_counter()
    truth = metrics(curves(task, TRUTH, num_validation, num_importance))
    table = []
    for grid in GRIDS:
        found = metrics(curves(task, grid, num_validation, num_importance))
        for key, row in found.iterrows():
            table.append({
                "grid": f"{grid[0]} {grid[1]}", "measure": key[0], "order": key[1],
                "num_evaluations": int(row.num_evaluations),
                "auc_error": abs(row.normalized_auc - truth.loc[key, "normalized_auc"]),
                "tolerance_fraction_error": abs(row.fraction_within_tolerance
                                                - truth.loc[key, "fraction_within_tolerance"]),
            })
    table = pd.DataFrame(table)
    worst = table.groupby("grid")[["num_evaluations", "auc_error", "tolerance_fraction_error"]].max()
    target = worst.loc[f"{TARGET_GRID[0]} {TARGET_GRID[1]}"]
    return {
        "truth": {"grid": f"{TRUTH[0]} {TRUTH[1]}", "curves": truth.reset_index().to_dict("records")},
        "curves": table.to_dict("records"),
        "worst_per_grid": worst.reset_index().to_dict("records"),
        "met": bool(target.auc_error <= LIMIT and target.tolerance_fraction_error <= LIMIT
                    and target.num_evaluations <= TARGET_GRID[1]),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: digits only, tiny subsets")
    parser.add_argument("--out", help="also write the JSON object to this file")
    parser.add_argument("--tasks", nargs="+", choices=["digits", "fashion_mnist"],
                        help="only these tasks (default: digits, and fashion_mnist where its files are installed)")
    arguments = parser.parse_args(argv)
    setups = {"digits": dict(epochs=5, num_examples=None, num_validation=None, num_importance=1000)}
    if not arguments.quick and common.fashion_files_present():
        setups["fashion_mnist"] = dict(epochs=2, num_examples=20_000, num_validation=2000, num_importance=1000)
    if arguments.quick:
        setups["digits"] = dict(epochs=2, num_examples=None, num_validation=200, num_importance=100)
    if arguments.tasks:
        if "fashion_mnist" in arguments.tasks and "fashion_mnist" not in setups:
            parser.error("fashion_mnist needs its files (and no --quick)")
        setups = {name: setup for name, setup in setups.items() if name in arguments.tasks}
    result = {"machine": common.machine_info(), "target": f"{TARGET_GRID[0]} grid with at most {TARGET_GRID[1]} "
              f"evaluations per curve: normalised AUC and {DEFAULT_TOLERANCE:.0%}-tolerance fraction within {LIMIT} "
              f"of the dense {TRUTH[1]}-point grid on every curve", "tasks": {}}
    for name, setup in setups.items():
        task = trained_task(name, setup["epochs"], setup["num_examples"])
        result["tasks"][name] = {"setup": setup, **compare(task, setup["num_validation"], setup["num_importance"])}
    result["met"] = all(task["met"] for task in result["tasks"].values())
    common.emit(result, arguments.out)
    return result


if __name__ == "__main__":
    main()
