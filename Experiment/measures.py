"""The measure objects of one trial: one per measure whose importances are needed (a control shares its base
measure's object). What a measure needs it declares as class attributes (``WeightImportance.base``): the trial's
seed where ``needs_seed``, Aggregation's grouping where ``needs_groups`` (the oracle at unit or layer level)."""

from __future__ import annotations

import Aggregation
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.controls import base_measure


def build_measures(config: ExperimentConfig, seed: int) -> dict[str, WeightImportance.ImportanceMeasure]:
    measures = {}
    for name in config.measure_names():
        base = base_measure(name)
        if base in measures:
            continue
        needs = WeightImportance.measure_class(base)
        options = dict(config.measure_options.get(base, {}))
        if needs.needs_seed:
            options.setdefault("seed", seed)
        measure = WeightImportance.get_measure(base, **options)
        if needs.needs_groups:
            measure.set_grouping(Aggregation.group_ids)
        measures[base] = measure
    return measures
