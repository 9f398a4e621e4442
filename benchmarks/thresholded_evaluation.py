"""Target 1: one (measure, combination, threshold) step of the runner costs at most 1.2 times the floor.

The step is the runner's own: ``Experiment.EpochGrid.run`` is called on the trained default model, as
``run_trial`` calls it, with a sink that writes each row to a CSV (as the runner's default sink does) and then
records ``time.perf_counter()``. A step is the time between two consecutive rows of one combination: the cut of
the ranking (``Ranking.masks``), ``apply_masks``, ``ThresholdResult.from_masks``, both evaluations and the CSV
row. The first row of every combination is left out (it also computes the measure and ranks the groups).

The floor is the work no thresholding evaluator can avoid: a compiled forward pass plus the loss (and accuracy)
over the same examples (validation subset and train subset), weights already in place. Every threshold changes the
weights, so every example has to go through the model again; nothing else is needed. It is measured inside the
sink, right after each row, so floor and steps alternate in time (shared-machine noise hits both). Three ways of
doing that work are timed and the cheapest is the floor:

- ``evaluators``: the runner's very ``Evaluator`` objects, called without assigning anything;
- ``one_call``: one compiled function over all batches of both subsets (one dispatch, one host transfer);
- ``whole_subsets``: one compiled function with each subset as a single batch (fewest, largest kernels).
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf

from benchmarks import common

LIMIT = 1.2
LEVELS = ["weight", "unit"]


def loss_and_correct_sums(model, loss, batches, classification: bool):
    """A compiled function summing the loss and the correct predictions over fixed batches, in one call."""
    batches = [(tf.constant(x), tf.constant(y)) for x, y in batches]

    @tf.function
    def sums():
        total_loss = tf.constant(0.0, tf.float64)
        correct = tf.constant(0.0, tf.float64)
        for x, y in batches:
            outputs = model(x, training=False)
            total_loss += tf.reduce_sum(tf.cast(loss.call(y, outputs), tf.float64))
            if classification:
                predicted = tf.argmax(outputs, axis=-1, output_type=tf.int64)
                correct += tf.reduce_sum(tf.cast(tf.equal(predicted, tf.cast(y, tf.int64)), tf.float64))
        return total_loss, correct

    return lambda: [value.numpy() for value in sums()]


def _batches(data, batch_size):
    x, y = data
    return [(x[start:start + batch_size], y[start:start + batch_size]) for start in range(0, len(x), batch_size)]


def floor_functions(context: common.Context) -> dict:
    model, loss, classification = context.model, context.task.loss, context.classification
    validation, train = context.evaluators
    batch_size = common.ExperimentConfig.evaluation_batch_size
    subsets = [context.validation, context.train_subset]

    def evaluators():
        validation()
        train()

    functions = {
        "evaluators": evaluators,
        "one_call": loss_and_correct_sums(
            model, loss, [b for subset in subsets for b in _batches(subset, batch_size)], classification),
        "whole_subsets": loss_and_correct_sums(
            model, loss, [b for subset in subsets for b in _batches(subset, len(subset[0]))], classification),
    }
    for function in functions.values():  # compile outside the timings
        function()
    return functions


def run(context: common.Context) -> dict:
    config = context.config(measures=["random"], aggregation_levels=LEVELS)
    floors = floor_functions(context)
    names = list(floors)
    floor_times = {name: [] for name in names}

    def measure_floor(row_index: int):
        name = names[row_index % len(names)]
        floor_times[name].append(common.timed(floors[name])[0])

    grid = common.run_grid(context, config, between_rows=measure_floor)
    steps = grid.steps()
    step_times = [seconds for seconds, _ in steps]
    outside = [seconds for _, seconds in steps]
    floor_medians = {name: common.median(times) for name, times in floor_times.items()}
    floor_name = min(floor_medians, key=floor_medians.get)
    floor = floor_medians[floor_name]
    step = common.median(step_times)
    ratio = step / floor
    return {
        "target": "time per (measure, combination, threshold) step <= 1.2 x floor (compiled forward pass + loss "
                  "over the same examples, weights in place)",
        "limit": LIMIT,
        "ratio": round(ratio, 4),
        "met": ratio <= LIMIT,
        "step_seconds": common.summary(step_times),
        "step_seconds_outside_evaluation": common.summary(outside),
        "floor_seconds": floor,
        "floor_variant": floor_name,
        "floor_variants_seconds": {name: common.summary(times) for name, times in floor_times.items()},
        "ratio_to_runner_evaluators_alone": round(step / floor_medians["evaluators"], 4),
        "grid": {"measures": config.measure_names(), "aggregation_levels": LEVELS,
                 "num_thresholds": len(config.threshold_values()), "num_rows": len(grid.rows),
                 "num_steps_timed": len(steps),
                 "num_examples_per_step": len(context.validation[0]) + len(context.train_subset[0])},
        "method": "Experiment.EpochGrid.run with a sink recording perf_counter after writing each CSV row; step = "
                  "consecutive rows of one combination (first row of each left out); floors timed inside the sink "
                  "between rows, rotating over the variants; ratio = median step / cheapest floor median.",
    }


if __name__ == "__main__":
    common.main({"thresholded_evaluation": run}, __doc__.split("\n\n")[0])
