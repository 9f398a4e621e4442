"""Target 3: ``fit`` with every training-time tracker attached takes at most 1.10 times as long as without,
for one epoch of the default model.

The trackers are the callbacks of every registered measure whose ``callbacks()`` is not empty (read from the
registry, so measures added later are included). The trained default model is fitted with the trackers, and a twin
of it (same architecture, compilation and weights) without them, on the same examples with the task's batch size
and ``shuffle=False``, in pairs whose order alternates (with/without, then without/with, ...), after one warm-up
fit of each at the same size (the first fits compile). The twin keeps the side without trackers free of anything
a tracker does to its model (gradient trackers retrace the train function of theirs).

Both sides carry one more callback, last in the list, that reads the clock at the end of every batch, so a fit
splits into its fixed part (``on_train_begin`` hooks, tracing, the first batch, the end) and the intervals
between batches (a training step plus every tracker's ``on_train_batch_end``). Other people's jobs on a shared
machine slow whole stretches of one fit and not of the other, so a fit's time is estimated robustly as its fixed
part plus (batches - 1) times its median interval. The target is judged on one epoch: per pair, the ratio of
(fixed part + (batches in an epoch - 1) x median interval) of the two sides, median over pairs. Many pairs of
short fits (``tracker_epoch_fraction`` of an epoch each, a quarter by default) spread the contention over both
sides better than a few whole epochs; ``--tracker-epoch-fraction 1`` times whole epochs. The ratio of the fits as
timed (``ratio_this_fit``) and the raw ratio of total fit times are reported too.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import math
import time

import keras
import numpy as np

import WeightImportance
from benchmarks import common

LIMIT = 1.10


class BatchClock(keras.callbacks.Callback):
    """Reads ``time.perf_counter()`` at the end of every training batch."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def on_train_begin(self, logs=None):
        self.times = []

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def tracked_measures() -> dict:
    """Every registered measure that observes training, by registry key."""
    measures = {name: WeightImportance.get_measure(name) for name in WeightImportance.available_measures()}
    return {name: measure for name, measure in measures.items() if measure.callbacks()}


def run(context: common.Context) -> dict:
    model = context.model
    measures = tracked_measures()
    trackers = [callback for measure in measures.values() for callback in measure.callbacks()]
    x, y = context.task.train
    batch_size = context.task.batch_size
    num_examples = max(2 * batch_size, int(round(context.scale.tracker_epoch_fraction * len(x))))
    order = np.random.default_rng([context.seed, 1]).permutation(len(x))[:num_examples]
    x_fit, y_fit = x[order], y[order]
    num_batches = math.ceil(num_examples / batch_size)
    num_epoch_batches = math.ceil(len(x) / batch_size)
    twin = context.task.build_model()
    twin.set_weights(model.get_weights())
    clock = BatchClock()

    def fit(with_trackers: bool, count: int | None = None) -> dict:
        stop = len(x_fit) if count is None else count
        start = time.perf_counter()
        (model if with_trackers else twin).fit(
            x_fit[:stop], y_fit[:stop], batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
            callbacks=[*trackers, clock] if with_trackers else [clock])
        total = time.perf_counter() - start
        intervals = np.diff(clock.times)
        return {"total": total, "fixed": total - float(intervals.sum()), "interval": float(np.median(intervals))}

    fit(True)  # warm-up at the timed size: compiles every batch shape the timed fits use
    fit(False)
    fits = {True: [], False: []}
    for pair in range(context.scale.num_tracker_pairs):
        for with_trackers in ((True, False) if pair % 2 == 0 else (False, True)):
            fits[with_trackers].append(fit(with_trackers))

    def robust(f: dict, batches: int) -> float:
        return f["fixed"] + (batches - 1) * f["interval"]

    pairs = list(zip(fits[True], fits[False]))
    ratio = common.median([robust(w, num_epoch_batches) / robust(wo, num_epoch_batches) for w, wo in pairs])
    ratio_this_fit = common.median([robust(w, num_batches) / robust(wo, num_batches) for w, wo in pairs])
    raw_ratios = [w["total"] / wo["total"] for w, wo in pairs]
    interval_with = common.median([f["interval"] for f in fits[True]])
    interval_without = common.median([f["interval"] for f in fits[False]])
    return {
        "target": "fit with every training-time tracker <= 1.10 x fit without them (one epoch)",
        "limit": LIMIT,
        "ratio": round(ratio, 4),
        "met": ratio <= LIMIT,
        "ratio_this_fit": round(ratio_this_fit, 4),
        "raw_ratio_of_total_fit_times": round(common.median(raw_ratios), 4),
        "raw_pair_ratios": [round(r, 4) for r in raw_ratios],
        "fit_seconds_with_trackers": common.summary(f["total"] for f in fits[True]),
        "fit_seconds_without_trackers": common.summary(f["total"] for f in fits[False]),
        "trackers": list(measures),
        "num_examples_per_fit": num_examples,
        "num_batches_per_fit": num_batches,
        "epoch_fraction_per_fit": round(num_examples / len(x), 4),
        "breakdown": {
            "batch_interval_seconds_without_trackers": interval_without,
            "batch_interval_seconds_with_trackers": interval_with,
            "trackers_seconds_per_batch": interval_with - interval_without,
            "fixed_seconds_per_fit_without_trackers": common.median([f["fixed"] for f in fits[False]]),
            "fixed_seconds_per_fit_with_trackers": common.median([f["fixed"] for f in fits[True]]),
            "trackers_seconds_per_fit": common.median([w["fixed"] - wo["fixed"] for w, wo in pairs]),
        },
        "method": "pairs of fits (order alternating), a clock callback last on both sides; robust fit time = fixed "
                  "part + (batches - 1) x median batch interval; ratio = median over pairs of with / without for "
                  "one epoch's batches.",
    }


if __name__ == "__main__":
    common.main({"training_trackers": run}, __doc__.split("\n\n")[0])
