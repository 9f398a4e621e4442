"""Target 5: the grid's cost grows linearly with measures x combinations x thresholds, and nothing that depends
only on the measure and the aggregation is recomputed per threshold.

Three grids of the runner (``Experiment.EpochGrid.run`` on the trained default model, level ``weight``,
scope ``layer``, order ``least``) are timed in rounds, their order rotating every round:

- A: 1 measure (``random``), k thresholds;
- B: 2 measures (``random``, ``magnitude``: both cost next to nothing to compute), k thresholds;
- C: 1 measure, 2k thresholds.

A grid's time runs from the end of the chance-level evaluation (done once per epoch, whatever the grid) to its
last row. Linear growth means B/A and C/A are both about 2 (target: each within [1.7, 2.3]). The number of calls
of each measure's ``compute`` and of ``Aggregation.rank_groups`` is counted as well: once per measure and once per
combination, whatever the number of thresholds.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contextlib

import Aggregation
from Experiment import build_measures, combinations
from benchmarks import common

LOWEST, HIGHEST = 1.7, 2.3


class CountingMeasure:
    """A measure that counts its ``compute`` calls."""

    def __init__(self, measure):
        self.measure = measure
        self.num_computes = 0

    def compute(self, model, data=None):
        self.num_computes += 1
        return self.measure.compute(model, data)


@contextlib.contextmanager
def counting_rankings(counter: list):
    original = Aggregation.rank_groups

    def rank_groups(*args, **kwargs):
        counter.append(1)
        return original(*args, **kwargs)

    Aggregation.rank_groups = rank_groups
    try:
        yield
    finally:
        Aggregation.rank_groups = original


def evenly_spaced(count: int) -> list[float]:
    return [round(i / (count - 1), 10) for i in range(count)]


def run(context: common.Context) -> dict:
    k = context.scale.num_scaling_thresholds
    configs = {
        "one_measure_k_thresholds": context.config(measures=["random"], thresholds=evenly_spaced(k)),
        "two_measures_k_thresholds": context.config(measures=["random", "magnitude"], thresholds=evenly_spaced(k)),
        "one_measure_2k_thresholds": context.config(measures=["random"], thresholds=evenly_spaced(2 * k)),
    }
    grid_times = {name: [] for name in configs}
    call_times = {name: [] for name in configs}
    counts = {}
    names = list(configs)
    for round_index in range(context.scale.num_scaling_repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            config = configs[name]
            measures = {key: CountingMeasure(measure)
                        for key, measure in build_measures(config, config.trial_seed(0)).items()}
            rankings = []
            with counting_rankings(rankings):
                grid = common.run_grid(context, config, measures=measures)
            grid_times[name].append(grid.grid_seconds)
            call_times[name].append(grid.call_seconds)
            counts[name] = {
                "num_rows": len(grid.rows),
                "num_measure_computes": {key: m.num_computes for key, m in measures.items()},
                "num_rank_groups_calls": len(rankings),
                "num_combinations": len(list(combinations(config))),
            }

    base = common.median(grid_times["one_measure_k_thresholds"])
    ratio_measures = common.median(grid_times["two_measures_k_thresholds"]) / base
    ratio_thresholds = common.median(grid_times["one_measure_2k_thresholds"]) / base
    base_call = common.median(call_times["one_measure_k_thresholds"])
    once_each = all(
        all(n == 1 for n in c["num_measure_computes"].values()) and c["num_rank_groups_calls"] == c["num_combinations"]
        for c in counts.values()
    )
    linear = all(LOWEST <= r <= HIGHEST for r in (ratio_measures, ratio_thresholds))
    return {
        "target": "grid cost ~linear in measures x combinations x thresholds: (2 measures, k) / (1, k) and "
                  "(1, 2k) / (1, k) both ~2; measure and ranking computed once per (measure, aggregation)",
        "limit": [LOWEST, HIGHEST],
        "ratio": {"two_measures_over_one": round(ratio_measures, 4),
                  "double_thresholds_over_single": round(ratio_thresholds, 4)},
        "met": linear and once_each,
        "computed_once_per_measure_and_combination": once_each,
        "k": k,
        "grid_seconds": {name: common.summary(times) for name, times in grid_times.items()},
        "whole_call_ratios_including_chance_evaluation": {
            "two_measures_over_one": round(common.median(call_times["two_measures_k_thresholds"]) / base_call, 4),
            "double_thresholds_over_single": round(
                common.median(call_times["one_measure_2k_thresholds"]) / base_call, 4),
        },
        "counts": counts,
        "method": "rounds of the three grids (order rotating); grid time = end of the chance evaluation to the last "
                  "row; ratios of medians; compute and rank_groups calls counted with wrappers.",
    }


if __name__ == "__main__":
    common.main({"grid_scaling": run}, __doc__.split("\n\n")[0])
