"""What every benchmark shares: the scale of a run, the task and its trained model, the runner's per-epoch
thresholding called with clocks attached, timing helpers, machine information and the command line.

Timings on a shared machine are noisy, so every comparison is made inside one process, with the two sides
interleaved (their order alternating from one repeat to the next) and summarised by medians.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The scripts are run as files (``python benchmarks/x.py``): the repository root must be importable.
REPOSITORY = Path(__file__).resolve().parents[1]
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import Tasks  # noqa: E402
from Experiment import EpochGrid, ExperimentConfig, build_measures  # noqa: E402
from Experiment.results import results_writer  # noqa: E402
from Runs.evaluation import Evaluator  # noqa: E402

TASK = "fashion_mnist"
FALLBACK_TASK = "digits"


@dataclass(frozen=True)
class Scale:
    """How much work a run does. Example counts are clipped to what the task has.

    Attributes:
        name: ``full`` or ``quick``.
        num_training_examples: examples the model is trained on (one pass) before it is thresholded.
        num_validation_examples, num_train_loss_examples: the examples evaluated at every threshold (the runner's
            ``num_validation_examples`` and ``num_train_loss_examples``).
        num_importance_examples: examples given to measures that need data.
        num_thresholds: thresholds of the evaluation grid and of the comparison with the original approach.
        num_original_repeats: interleaved repeats of (runner grid, original grid).
        num_scaling_thresholds: k of the scaling section's (1, k), (2, k), (1, 2k) grids.
        num_scaling_repeats: rounds of the three scaling grids.
        num_fisher_examples: examples of the per-example gradient comparison.
        num_fisher_repeats: interleaved repeats of (eager loop, vectorized).
        tracker_epoch_fraction: fraction of an epoch each timed ``fit`` of the tracker section trains.
        num_tracker_pairs: interleaved (with trackers, without) pairs of fits.
    """

    name: str
    num_training_examples: int
    num_validation_examples: int
    num_train_loss_examples: int
    num_importance_examples: int
    num_thresholds: int
    num_original_repeats: int
    num_scaling_thresholds: int
    num_scaling_repeats: int
    num_fisher_examples: int
    num_fisher_repeats: int
    tracker_epoch_fraction: float
    num_tracker_pairs: int


FULL = Scale("full", num_training_examples=15_000, num_validation_examples=2000, num_train_loss_examples=1000,
             num_importance_examples=1000, num_thresholds=11, num_original_repeats=2, num_scaling_thresholds=4,
             num_scaling_repeats=3, num_fisher_examples=256, num_fisher_repeats=3, tracker_epoch_fraction=0.25,
             num_tracker_pairs=6)
QUICK = Scale("quick", num_training_examples=1280, num_validation_examples=256, num_train_loss_examples=128,
              num_importance_examples=128, num_thresholds=3, num_original_repeats=1, num_scaling_thresholds=2,
              num_scaling_repeats=1, num_fisher_examples=32, num_fisher_repeats=1, tracker_epoch_fraction=0.01,
              num_tracker_pairs=1)


# -- machine ---------------------------------------------------------------------------------------------------
def machine_info() -> dict:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu_model": cpu_model or platform.processor() or None,
        "num_cores": os.cpu_count(),
        "num_usable_cores": usable,
        "load_average": _load_average(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


# -- timing ------------------------------------------------------------------------------------------------------
def median(values) -> float:
    return float(statistics.median(values))


def summary(values) -> dict:
    """Median, min, max and count of a list of seconds."""
    values = list(values)
    return {"median": median(values), "min": float(min(values)), "max": float(max(values)), "count": len(values)}


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def interleaved(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds of every function over ``repeats`` rounds; the order within a round rotates every round."""
    names = list(functions)
    times = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed(functions[name])[0])
    return times


# -- the task and its trained model -------------------------------------------------------------------------------
def fashion_files_present() -> bool:
    from Tasks import fashion_mnist

    return any(fashion_mnist.find_files(directory) is not None for directory in fashion_mnist.default_directories())


class Context:
    """The task, its default model trained once, and the evaluation subsets, shared by every section."""

    def __init__(self, scale: Scale, seed: int = 0):
        self.scale = scale
        self.seed = seed
        self.notes: list[str] = []
        self.task = self._load_task()
        if self.task.name != TASK:
            self.scale = _clipped(scale, self.task)
        self.validation = tuple(a[: self.scale.num_validation_examples] for a in self.task.validation)
        self.train_subset = tuple(a[: self.scale.num_train_loss_examples] for a in self.task.train)
        self.importance_data = tuple(a[: self.scale.num_importance_examples] for a in self.task.train)
        self.classification = self.task.num_classes is not None
        self._model: keras.Model | None = None
        self._evaluators: tuple[Evaluator, Evaluator] | None = None
        self.training: dict = {}
        self.directory = tempfile.TemporaryDirectory(prefix="benchmarks-")

    def _load_task(self):
        if fashion_files_present():
            try:
                return Tasks.get_task(TASK, seed=self.seed)
            except Tasks.DatasetUnavailableError as error:
                reason = str(error).splitlines()[0]
        else:
            reason = "the Fashion-MNIST files are not installed (apt-get install dataset-fashion-mnist)"
        note = f"{TASK} unavailable ({reason}); falling back to {FALLBACK_TASK!r}: numbers are not comparable."
        print(f"NOTE: {note}", file=sys.stderr)
        self.notes.append(note)
        return Tasks.get_task(FALLBACK_TASK, seed=self.seed)

    @property
    def model(self) -> keras.Model:
        """The task's default model, trained for one pass over ``num_training_examples`` examples."""
        if self._model is None:
            model = self.task.model
            x, y = self.task.train
            order = np.random.default_rng(self.seed).permutation(len(x))[: self.scale.num_training_examples]
            seconds, _ = timed(lambda: model.fit(x[order], y[order], batch_size=self.task.batch_size, epochs=1,
                                                 shuffle=False, verbose=0))
            self._model = model
            validation_loss, validation_accuracy = self.evaluators[0]()
            self.evaluators[1]()  # compile both evaluators before anything is timed
            self.training = {
                "num_examples": int(len(order)),
                "epoch_fraction": round(len(order) / len(x), 4),
                "batch_size": self.task.batch_size,
                "seconds": seconds,
                "val_loss": validation_loss,
                "val_accuracy": validation_accuracy,
            }
        return self._model

    @property
    def evaluators(self) -> tuple[Evaluator, Evaluator]:
        """The runner's evaluators of the validation subset and the train subset, as ``run_trial`` builds them."""
        if self._evaluators is None:
            model = self.task.model
            batch_size = ExperimentConfig.evaluation_batch_size
            self._evaluators = (
                Evaluator(model, self.task.loss, self.validation, batch_size, self.classification),
                Evaluator(model, self.task.loss, self.train_subset, batch_size, self.classification),
            )
        return self._evaluators

    def describe(self) -> dict:
        self.model  # noqa: B018  (trains it if no section has yet)
        return {
            "task": self.task.name,
            "model": self.model.name,
            "num_trainable_parameters": int(sum(np.prod(w.shape) for w in self.model.trainable_weights)),
            "scale": asdict(self.scale),
            "num_validation_examples": int(len(self.validation[0])),
            "num_train_loss_examples": int(len(self.train_subset[0])),
            "training": self.training,
            "notes": self.notes,
        }

    def config(self, **fields) -> ExperimentConfig:
        """A runner configuration on this context's task and subsets (progress bars off)."""
        values = dict(
            task=self.task.name, seed=self.seed, epochs=1, num_validation_examples=self.scale.num_validation_examples,
            validation_precision=None, num_train_loss_examples=self.scale.num_train_loss_examples,
            num_importance_examples=self.scale.num_importance_examples, aggregation_levels=["weight"],
            scopes=["layer"], orders=["least"], num_thresholds=self.scale.num_thresholds,
            results_csv=str(Path(self.directory.name) / "results.csv"), progress=False,
        )
        values.update(fields)
        return ExperimentConfig(**values)


def _clipped(scale: Scale, task) -> Scale:
    num_train, num_validation = len(task.train[0]), len(task.validation[0])
    return replace(
        scale,
        num_training_examples=min(scale.num_training_examples, num_train),
        num_validation_examples=min(scale.num_validation_examples, num_validation),
        num_train_loss_examples=min(scale.num_train_loss_examples, num_train),
        num_importance_examples=min(scale.num_importance_examples, num_train),
        num_fisher_examples=min(scale.num_fisher_examples, num_train),
    )


# -- the runner with clocks attached -------------------------------------------------------------------------------
class TimedEvaluator:
    """Calls an ``Evaluator`` and records when each call started and ended."""

    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator
        self.calls: list[tuple[float, float]] = []

    def __call__(self):
        start = time.perf_counter()
        result = self.evaluator()
        self.calls.append((start, time.perf_counter()))
        return result

    def batches(self):
        """The evaluator's per-batch values; the call lasts from the first batch asked for to the last one (the
        caller may stop early: ``Experiment.budget.estimate``)."""
        start = time.perf_counter()
        try:
            yield from self.evaluator.batches()
        finally:
            self.calls.append((start, time.perf_counter()))

    def __getattr__(self, name):
        # ``num_examples``, ``classification`` and the rest: those of the evaluator it times.
        return getattr(self.evaluator, name)


@dataclass
class GridRun:
    """What one call of the runner's ``EpochGrid.run`` did, with the time every row reached the sink.

    ``arrivals[i]``: row i was written (CSV included) and handed over; ``departures[i]``: the sink returned (work
    done inside the sink between the two, such as a floor measurement, is not part of any step).
    ``grid_start``: the chance-level evaluation (done once per epoch, not per grid element) ended.
    """

    rows: list[dict]
    arrivals: list[float]
    departures: list[float]
    call_start: float
    grid_start: float
    call_end: float
    evaluator_calls: list[tuple[float, float]]

    @property
    def grid_seconds(self) -> float:
        """From the end of the chance evaluation to the last row: measures, rankings and every threshold."""
        return self.arrivals[-1] - self.grid_start

    @property
    def call_seconds(self) -> float:
        return self.call_end - self.call_start

    def steps(self) -> list[tuple[float, float]]:
        """(seconds, seconds spent outside the evaluators) of every row but the first of its combination."""
        results = []
        for index in range(1, len(self.rows)):
            if _combination(self.rows[index]) != _combination(self.rows[index - 1]):
                continue
            start, end = self.departures[index - 1], self.arrivals[index]
            evaluating = sum(min(b, end) - max(a, start) for a, b in self.evaluator_calls if a < end and b > start)
            results.append((end - start, end - start - evaluating))
        return results


def _combination(row: dict) -> tuple:
    return tuple(row[k] for k in ("measure", "aggregation_level", "aggregation_method", "scope", "order"))


def run_grid(context: Context, config: ExperimentConfig, between_rows: Callable[[int], None] | None = None,
             measures: dict | None = None) -> GridRun:
    """One call of the runner's per-epoch thresholding on the trained model, exactly as ``run_trial`` makes it.

    ``between_rows(i)`` runs inside the sink after row i is recorded, outside every step's time.
    """
    model = context.model
    if measures is None:
        measures = build_measures(config, config.trial_seed(0))
    validation, train = (TimedEvaluator(evaluator) for evaluator in context.evaluators)
    writer = results_writer(config.results_csv)
    rows, arrivals, departures = [], [], []

    def sink(new_rows):
        writer.append(new_rows)
        arrivals.append(time.perf_counter())
        rows.extend(new_rows)
        if between_rows is not None:
            between_rows(len(rows) - 1)
        departures.append(time.perf_counter())

    call_start = time.perf_counter()
    EpochGrid(config, 0, 1, context.task.name, model, measures, context.importance_data, validation,
              train).run(sink, set())
    call_end = time.perf_counter()
    Path(config.results_csv).unlink(missing_ok=True)
    return GridRun(rows, arrivals, departures, call_start, validation.calls[0][1], call_end,
                   sorted(validation.calls[1:] + train.calls))


# -- command line ----------------------------------------------------------------------------------------------------
def parse_arguments(description: str, argv=None, sections: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    if sections:
        parser.add_argument("--only", nargs="+", choices=sections, default=None, help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny subsets, one repeat")
    parser.add_argument("--out", help="also write the JSON object to this file")
    parser.add_argument("--tracker-epoch-fraction", type=float, default=None,
                        help="fraction of an epoch per timed fit of the tracker section (1 = one epoch)")
    return parser.parse_args(argv)


def scale_from(arguments: argparse.Namespace) -> Scale:
    scale = QUICK if arguments.quick else FULL
    if arguments.tracker_epoch_fraction is not None:
        if not 0 < arguments.tracker_epoch_fraction <= 1:
            raise ValueError(f"--tracker-epoch-fraction must be in (0, 1]; got {arguments.tracker_epoch_fraction}.")
        scale = replace(scale, tracker_epoch_fraction=arguments.tracker_epoch_fraction)
    return scale


def run_sections(sections: dict[str, Callable[[Context], dict]], arguments: argparse.Namespace) -> dict:
    """Run ``sections`` on one context; the combined JSON-ready result."""
    started = time.perf_counter()
    machine = machine_info()
    context = Context(scale_from(arguments))
    results = {}
    for name, run in sections.items():
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        seconds, results[name] = timed(lambda: run(context))
        results[name]["section_seconds"] = round(seconds, 2)
    machine["load_average_at_end"] = _load_average()
    return {
        "machine": machine,
        "setup": context.describe(),
        "summary": {name: {key: result.get(key) for key in ("ratio", "limit", "met")}
                    for name, result in results.items()},
        "all_met": all(result.get("met") for result in results.values()),
        "sections": results,
        "total_seconds": round(time.perf_counter() - started, 1),
    }


def emit(result: dict, out: str | None) -> None:
    text = json.dumps(result, indent=2, default=_json_default)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Not JSON serialisable: {type(value).__name__}")


def main(sections: dict[str, Callable[[Context], dict]], description: str, argv=None) -> dict:
    arguments = parse_arguments(description, argv)
    result = run_sections(sections, arguments)
    emit(result, arguments.out)
    return result
