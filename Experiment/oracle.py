"""How well each importance measure predicts the actual loss increase of removing a group of weights.

    table = oracle_correlation(model, (x, y), level="unit")

Every measure's importances and those of the ``oracle`` measure (the loss increase on ``data`` when each group is
set to zero) are aggregated to one score per group with ``Aggregation.rank_groups(..., scope="model")``, and each
measure is compared with the oracle by the Spearman rank correlation of the group scores over all groups of the
model. The oracle's removal unit is the aggregation level, and its groups are ``Aggregation.group_ids`` of that
level (given through ``set_grouping``), so the oracle scores exactly the groups being ranked. Cost: the oracle
takes one forward pass over ``data`` per group.
"""

from __future__ import annotations

import warnings

import keras
import pandas as pd
from scipy import stats

import Aggregation
import WeightImportance

ORACLE_LEVELS = ("unit", "weight", "layer")


def post_training_measures() -> list[str]:
    """The registered measures that need no training callbacks (the default set of ``oracle_correlation``)."""
    return [name for name in WeightImportance.available_measures()
            if not WeightImportance.measure_class(name).needs_training]


def _measure_objects(measures, measure_options) -> dict[str, WeightImportance.ImportanceMeasure]:
    if measures is None:
        measures = post_training_measures()
    if isinstance(measures, dict):
        items = list(measures.items())
    else:
        items = [(name, None) for name in measures]
    objects = {}
    for name, measure in items:
        if measure is None:
            measure = WeightImportance.get_measure(name, **measure_options.get(name, {}))
        elif isinstance(measure, str):
            measure = WeightImportance.get_measure(measure, **measure_options.get(measure, {}))
        if not isinstance(measure, WeightImportance.ImportanceMeasure):
            raise ValueError(f"measures[{name!r}] must be a registered measure's name or an ImportanceMeasure, "
                             f"got {type(measure).__name__}.")
        objects[name] = measure
    return objects


def oracle_correlation(model: keras.Model, data, measures=None, level: str = "unit", method: str = "mean",
                       measure_options: dict | None = None) -> pd.DataFrame:
    """Spearman rank correlation between each measure's group scores and the oracle's, sorted (best first).

    Args:
        model: a built, compiled Keras model (its compiled loss is the oracle's loss).
        data: the evaluation examples, ``(x, y)`` arrays or a ``tf.data.Dataset`` of batches; every measure that
            uses data and the oracle see the same data.
        measures: None (every registered measure that needs no training callbacks, ``oracle`` included), a list
            of registry names, or a dict from a row name to a measure object (e.g. training-time measures already
            trained with their callbacks) or a registry name.
        level: the group level, one of ``"unit"``, ``"weight"``, ``"layer"``: the oracle's removal unit and the
            ``Aggregation`` level the other measures are aggregated to.
        method: how ``Aggregation`` turns a group's importances into its score (``Aggregation.METHODS``).
        measure_options: options per registry name, passed to ``get_measure`` for measures given by name
            (e.g. ``{"obd": {"hessian": "exact"}, "oracle": {"num_samples": 500}}``).

    Returns:
        One row per measure, columns ``measure``, ``spearman`` (NaN where a measure's group scores are constant),
        ``p_value``, ``num_groups``, sorted by ``spearman`` from highest to lowest.
    """
    if level not in ORACLE_LEVELS:
        raise ValueError(f"Unknown level {level!r} for the oracle comparison; valid: {list(ORACLE_LEVELS)}.")
    if method not in Aggregation.METHODS:
        raise ValueError(f"Unknown method {method!r}; valid: {list(Aggregation.METHODS)}.")
    measure_options = dict(measure_options or {})
    oracle_options = dict(measure_options.get("oracle", {}))
    if oracle_options.setdefault("level", level) != level:
        raise ValueError(f"The oracle's level ({oracle_options['level']!r}) must be the comparison's level "
                         f"({level!r}).")
    measure_options["oracle"] = oracle_options
    objects = _measure_objects(measures, measure_options)
    oracle = objects.get("oracle")
    if not isinstance(oracle, WeightImportance.measure_class("oracle")) or oracle.level != level:
        oracle = WeightImportance.get_measure("oracle", **oracle_options)
    for measure in [oracle, *objects.values()]:
        if measure.needs_groups:  # Aggregation's groups, so the oracle removes exactly what is ranked
            measure.set_grouping(Aggregation.group_ids)

    def group_scores(importances):
        ranking = Aggregation.rank_groups(model, importances, level=level, method=method, scope="model",
                                          order="least", seed=0)
        return ranking.group_scores

    reference = group_scores(oracle.compute(model, data))
    rows = []
    for name, measure in objects.items():
        scores = reference if measure is oracle else group_scores(measure.compute(model, data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)
            result = stats.spearmanr(scores, reference)
        rows.append({"measure": name, "spearman": float(result.statistic), "p_value": float(result.pvalue),
                     "num_groups": int(reference.size)})
    table = pd.DataFrame(rows, columns=["measure", "spearman", "p_value", "num_groups"])
    return table.sort_values("spearman", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def trained_oracle_correlation(task: str = "digits", epochs: int = 3, seed: int = 0, num_examples: int = 500,
                               level: str = "unit", method: str = "mean") -> pd.DataFrame:
    """Train ``task``'s default model with every training-time measure attached, then ``oracle_correlation`` of
    every registered measure on the first ``num_examples`` validation examples."""
    import Tasks

    task = Tasks.get_task(task, seed=seed)
    measures = {name: WeightImportance.get_measure(
                    name, **({"seed": seed} if WeightImportance.measure_class(name).needs_seed else {}))
                for name in WeightImportance.available_measures()}
    callbacks = [callback for measure in measures.values() for callback in measure.callbacks()]
    task.model.fit(*task.train, batch_size=task.batch_size, epochs=epochs, verbose=0, callbacks=callbacks)
    data = tuple(a[:num_examples] for a in task.validation)
    return oracle_correlation(task.model, data, measures=measures, level=level, method=method)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Spearman correlation of every measure with the oracle.")
    parser.add_argument("--task", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-examples", type=int, default=500)
    parser.add_argument("--level", default="unit", choices=ORACLE_LEVELS)
    parser.add_argument("--out", help="also write the table to this CSV (its arguments to the same path .json)")
    arguments = parser.parse_args()
    table = trained_oracle_correlation(arguments.task, arguments.epochs, arguments.seed, arguments.num_examples,
                                       arguments.level)
    print(table.to_string(index=False))
    if arguments.out:
        import json
        from pathlib import Path

        from Schema import config_path

        Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(arguments.out, index=False)
        config_path(arguments.out).write_text(json.dumps(vars(arguments), indent=2, sort_keys=True) + "\n")
