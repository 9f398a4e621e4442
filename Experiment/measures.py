"""The measure objects of one trial, by label (``fisher``, ``fisher@sampled``): one per label whose importances are
needed (a control shares its label's object), made from the registry with the label's ``measure_options``. What a
measure needs it declares as class attributes (``WeightImportance.base``): the trial's seed where ``needs_seed``,
Aggregation's grouping where ``needs_groups`` (the oracle at unit or layer level)."""

from __future__ import annotations

import Aggregation
import WeightImportance
from Experiment.config import ExperimentConfig
from Experiment.controls import base_measure
from Schema import registry_name


def build_measures(config: ExperimentConfig, seed: int) -> dict[str, WeightImportance.ImportanceMeasure]:
    measures = {}
    for name in config.measure_names():
        label = base_measure(name)
        if label in measures:
            continue
        needs = WeightImportance.measure_class(registry_name(label))
        options = dict(config.measure_options.get(label, {}))
        if needs.needs_seed:
            options.setdefault("seed", seed)
        measure = WeightImportance.get_measure(registry_name(label), **options)
        if needs.needs_groups:
            measure.set_grouping(Aggregation.group_ids)
        measures[label] = measure
    return measures
