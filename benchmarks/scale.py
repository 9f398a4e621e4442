"""What a larger model costs: time and peak memory of every phase of a run, from about 10 k to about 2 M
trainable parameters, and how each phase grows with the parameter count.

Models, smallest first: the small CNN and the MLP of ``digits``, the small CNN and the default CNN
(``four_conv_cnn``) of ``fashion_mnist``, and Keras' MobileNetV2 (``weights=None``) with alpha 0.35 and 1.0 on
Fashion-MNIST padded to 32x32 and repeated to three channels (digits upsampled to 32x32 where the Fashion-MNIST
files are missing). Keras' MobileNetV2 builds its BatchNormalization layers with momentum 0.999, whose moving
statistics barely leave their start in the few hundred steps trained here; they are set to the tasks' 0.9
(``Tasks.models.BATCH_NORM_MOMENTUM``) before compiling. Every model is trained first (``num_warmup_epochs`` over
``num_warmup_examples``) and its validation accuracy must exceed chance (1 / classes) by ``ACCURACY_MARGIN``; the
output says whether it did.

Each model is measured in a fresh Python process, so that one model's memory does not hide another's. Phases:

- ``training_epoch``: one steady-state epoch (``Runs.training.fit_epoch``) of ``num_epoch_examples`` examples;
- one per measure (``MEASURES``): ``compute`` on ``num_importance_examples`` training examples, called twice: the
  first call, tracing included, is the phase's ``seconds`` (what a run's first measured epoch pays); the second
  gives ``steady_seconds`` and the seconds per example. The training-time measures (``sign_flips``, ``si``) cost
  what their callbacks add to an epoch plus ``compute``; the addition is timed on the whole and on half the epoch's
  examples, against plain epochs of the same sizes, and split into a part per ``fit`` call (the recorder's tracing)
  and a part per example (the line through the two). They run last, since they train the model further. The
  oracle removes units (``level="unit"``) where the model has at most ``oracle_max_groups`` of them; on a larger
  model it is measured at ``level="layer"`` and its unit-level time is estimated as (layer-level seconds per
  forward pass) x (units + 1);
- ``ranking_weight``, ``ranking_unit``: ``Aggregation.rank_groups`` of the magnitude importances, scope layer;
- ``thresholded_evaluation``: one cut of the weight ranking at f = 0.5 (``Ranking.masks`` and
  ``Aggregation.apply_masks``) and one compiled evaluation (``Runs.evaluation.Evaluator``, the runner's) of
  ``num_validation_examples`` examples, after a first call that traces it (timed apart); and the evaluation alone
  at a quarter, a half and all of those examples, for its growth with validation examples.

Memory: a thread samples the process's resident set size (``/proc/self/statm``, every ``RSS_INTERVAL`` seconds)
during each phase; a phase's figure is its peak RSS less the RSS when it started (short spikes between samples can
be missed). ``peak_rss_mb`` of a model is the worker's ``resource.getrusage`` ``ru_maxrss``: TensorFlow and the
data included. On a GPU, each phase also records TensorFlow's peak GPU memory (``get_memory_info``).

Growth: every phase's seconds per example (per importance example for measures, per validation example for
evaluation; rankings are per call) is fitted as ``c * P**k`` over the models by least squares on logarithms, P the
trainable parameter count; the same for the memory increases. Ratios: each phase over the training epoch of the
same model (the example counts are in ``setup``). ``does_not_fit`` lists, per model, the measures that at the main
job's defaults (``ExperimentConfig.num_importance_examples``, one epoch over the task's whole training set) would
cost more than that epoch or take more than ``MEMORY_FRACTION`` of the machine's memory, with the option that
makes them fit.

    python benchmarks/scale.py [--quick] [--models NAME ...] [--out FILE.json]

The exit status is non-zero when a model could not be measured (``failed`` names it; its ``error`` says why).
"""

from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
MEASURES = ["magnitude", "fisher", "sign_flips", "mas", "taylor", "snip", "grasp", "synflow", "oracle", "si"]
TRAINING_TIME = ("sign_flips", "si")
ACCURACY_MARGIN = 0.2
RSS_INTERVAL = 0.005
MEMORY_FRACTION = 0.25
SLOW_SECONDS = 60.0
MODELS = {
    # name: (source task, model spec or MobileNetV2 alpha)
    "digits_cnn": ("digits", "cnn"),
    "digits_mlp": ("digits", "mlp"),
    "fashion_mnist_small_cnn": ("fashion_mnist", "small_cnn"),
    "fashion_mnist_cnn": ("fashion_mnist", "cnn"),
    "mobilenet_v2_0.35": ("images_32", 0.35),
    "mobilenet_v2_1.0": ("images_32", 1.0),
}


@dataclass(frozen=True)
class Setup:
    """How much work each model's measurement does (example counts are clipped to what the data have).

    Attributes:
        name: ``full`` or ``quick``.
        models: the ``MODELS`` measured, smallest first.
        num_warmup_examples, num_warmup_epochs: the training before anything is measured.
        num_epoch_examples: examples of the timed training epoch.
        num_importance_examples: examples given to the measures that need data.
        num_validation_examples: examples of the thresholded evaluation.
        oracle_max_groups: the most units the oracle removes one by one (above: measured per layer, estimated).
        measures: the measures timed.
    """

    name: str
    models: tuple[str, ...]
    num_warmup_examples: int
    num_warmup_epochs: int
    num_epoch_examples: int
    num_importance_examples: int
    num_validation_examples: int
    oracle_max_groups: int
    measures: tuple[str, ...] = tuple(MEASURES)


FULL = Setup("full", tuple(MODELS), num_warmup_examples=4096, num_warmup_epochs=2, num_epoch_examples=1024,
             num_importance_examples=64, num_validation_examples=1000, oracle_max_groups=1000)
QUICK = Setup("quick", ("digits_cnn", "digits_mlp"), num_warmup_examples=1437, num_warmup_epochs=2,
              num_epoch_examples=256, num_importance_examples=32, num_validation_examples=128, oracle_max_groups=300)


# -- the pure parts ---------------------------------------------------------------------------------------------
def fit_exponent(sizes, values) -> dict:
    """Least squares of ``log(value) = log(c) + k log(size)`` over the positive pairs: ``{"exponent": k,
    "coefficient": c, "r_squared", "num_points"}`` (exponent None with fewer than two distinct sizes)."""
    pairs = [(float(s), float(v)) for s, v in zip(sizes, values)
             if s is not None and v is not None and s > 0 and v > 0 and math.isfinite(v)]
    result = {"exponent": None, "coefficient": None, "r_squared": None, "num_points": len(pairs)}
    if len({s for s, _ in pairs}) < 2:
        return result
    x, y = (np.log([p[i] for p in pairs]) for i in (0, 1))
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = float(np.sum((y - y.mean()) ** 2))
    result.update(exponent=float(slope), coefficient=float(np.exp(intercept)),
                  r_squared=float(1 - np.sum(residual ** 2) / total) if total > 0 else 1.0)
    return result


def exponents(models: dict) -> dict:
    """The growth with the parameter count of every phase's seconds per example and memory increase."""
    measured = {name: result for name, result in models.items() if "phases" in result}
    phases = sorted({phase for result in measured.values() for phase in result["phases"]})
    fits = {}
    for phase in phases:
        rows = [(result["num_parameters"], result["phases"][phase]) for result in measured.values()
                if phase in result["phases"]]
        fits[phase] = {
            "seconds_per_example": fit_exponent([p for p, _ in rows], [r.get("seconds_per_example") for _, r in rows]),
            "rss_increase_mb": fit_exponent([p for p, _ in rows], [r.get("rss_increase_mb") for _, r in rows]),
        }
    return fits


def ratios(result: dict) -> dict:
    """Every phase's seconds over the training epoch's seconds of the same model."""
    epoch = result["phases"]["training_epoch"]["seconds"]
    return {phase: round(values["seconds"] / epoch, 4) for phase, values in result["phases"].items()
            if values.get("seconds") is not None}


def does_not_fit(result: dict, num_importance_examples: int, memory_bytes: int | None) -> list[dict]:
    """The measures that at ``num_importance_examples`` would cost more than one epoch over the task's whole training
    set, or more than ``MEMORY_FRACTION`` of ``memory_bytes``, each with the option that makes it fit."""
    phases = result["phases"]
    epoch = phases["training_epoch"]["seconds_per_example"] * result["num_task_training_examples"]
    found = []
    for measure in result["measures"]:
        phase = phases.get(measure)
        if phase is None or phase.get("seconds_per_example") is None:
            continue
        if measure in TRAINING_TIME:  # the tracking cost of a whole epoch, then one compute
            seconds = (phase["fixed_seconds_per_fit"] + phase["compute_seconds"]
                       + phase["seconds_per_example"] * result["num_task_training_examples"])
        elif measure == "oracle":
            seconds = phase["tracing_seconds"] + phase["estimated_unit_seconds_per_example"] * num_importance_examples
        elif phase.get("needs_data"):
            seconds = phase["tracing_seconds"] + phase["seconds_per_example"] * num_importance_examples
        else:
            seconds = phase["seconds"]
        entry = {"measure": measure, "projected_seconds": round(seconds, 2), "full_epoch_seconds": round(epoch, 2)}
        if seconds > max(epoch, SLOW_SECONDS):
            budget = max(epoch, SLOW_SECONDS) - phase["tracing_seconds"] if "tracing_seconds" in phase else 0
            if measure == "oracle":
                examples = int(budget / phase["estimated_unit_seconds_per_example"])
                entry["fix"] = (f"level='layer' ({phase['num_layers']} passes), or num_importance_examples <= "
                                f"{examples}" if examples >= 1 else f"level='layer' ({phase['num_layers']} passes)")
            elif phase.get("needs_data") and measure not in TRAINING_TIME:
                examples = int(budget / phase["seconds_per_example"])
                entry["fix"] = (f"num_importance_examples <= {examples}" if examples >= 1
                                else "none: slower than an epoch at one example")
            else:
                entry["fix"] = "none: its cost grows with the training examples, not with num_importance_examples"
        limit = None if memory_bytes is None else MEMORY_FRACTION * memory_bytes / 2**20
        if limit is not None and (phase.get("rss_increase_mb") or 0) > limit:
            batch = phase.get("batch_size")
            entry["memory_mb"] = phase["rss_increase_mb"]
            entry["memory_fix"] = (f"batch_size <= {max(1, int(batch * limit / phase['rss_increase_mb']))}"
                                   if batch else "a smaller model")
        if "fix" in entry or "memory_fix" in entry:
            found.append(entry)
    return found


# -- memory --------------------------------------------------------------------------------------------------------
def resident_bytes() -> int | None:
    """The process's resident set size now (Linux ``/proc/self/statm``); None where it cannot be read."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class PeakMemory:
    """The peak resident set size (sampled) and TensorFlow's peak GPU memory inside a ``with`` block."""

    def __init__(self, gpu: bool):
        self.gpu = gpu

    def __enter__(self):
        self.start = resident_bytes()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        if self.gpu:
            import tensorflow as tf

            tf.config.experimental.reset_memory_stats("GPU:0")
        return self

    def _sample(self):
        while not self._stop.wait(RSS_INTERVAL):
            now = resident_bytes()
            if now is not None and (self.peak is None or now > self.peak):
                self.peak = now

    def __exit__(self, *exception):
        self._stop.set()
        self._thread.join()
        now = resident_bytes()
        if now is not None and self.peak is not None:
            self.peak = max(self.peak, now)
        self.gpu_peak = None
        if self.gpu:
            import tensorflow as tf

            self.gpu_peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        return False

    def figures(self) -> dict:
        mb = 2**20
        out = {"rss_increase_mb": None if self.start is None else round((self.peak - self.start) / mb, 1),
               "peak_rss_mb": None if self.peak is None else round(self.peak / mb, 1)}
        if self.gpu:
            out["gpu_peak_mb"] = round(self.gpu_peak / mb, 1)
        return out


# -- one model, in its own process ------------------------------------------------------------------------------
def padded_images(x: np.ndarray, side: int = 32) -> np.ndarray:
    """Grayscale ``(N, h, w, 1)`` images as ``(N, side, side, 3)``: zero-padded (or upsampled by an integer factor
    first where ``h`` divides ``side``), the channel repeated three times."""
    factor = side // x.shape[1]
    if factor > 1:
        x = x.repeat(factor, axis=1).repeat(factor, axis=2)
    pad = side - x.shape[1]
    x = np.pad(x, ((0, 0), (pad // 2, pad - pad // 2), (pad // 2, pad - pad // 2), (0, 0)))
    return np.repeat(x, 3, axis=-1).astype(np.float32)


def build_task(name: str, setup: Setup, notes: list[str]):
    """The task of ``MODELS[name]``; MobileNetV2 on 32x32x3 images as a ``Tasks.make_task`` task."""
    import keras

    import Tasks
    from Tasks.models import BATCH_NORM_MOMENTUM
    from benchmarks import common

    source, model = MODELS[name]
    if source == "fashion_mnist" and not common.fashion_files_present():
        notes.append("Fashion-MNIST files missing: the fashion_mnist models were measured on digits' images")
        source = "digits"
    if source != "images_32":
        return Tasks.get_task(source, model=model)
    base = "fashion_mnist" if common.fashion_files_present() else "digits"
    if base == "digits":
        notes.append("Fashion-MNIST files missing: MobileNetV2 was measured on digits upsampled to 32x32")
    images = Tasks.get_task(base, model="mlp")
    count = setup.num_warmup_examples + setup.num_epoch_examples
    train = (padded_images(images.train[0][:count]), images.train[1][:count])
    validation = (padded_images(images.validation[0][:setup.num_validation_examples]),
                  images.validation[1][:setup.num_validation_examples])

    def build(seed: int) -> keras.Model:
        network = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=model, weights=None,
                                                 classes=images.num_classes, classifier_activation=None,
                                                 name=f"mobilenet_v2_{model}")
        for layer in network.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = BATCH_NORM_MOMENTUM
        return network

    task = Tasks.make_task(name, train, validation, build, Tasks.classification_loss(), images.num_classes)
    task.num_source_training_examples = len(images.train[0])
    return task


def measure_model(name: str, setup: Setup) -> dict:
    """Every phase of ``MODELS[name]`` in this process (module docstring)."""
    import tensorflow as tf

    import Aggregation
    import WeightImportance
    from Runs.evaluation import Evaluator
    from Runs.training import fit_epoch

    gpu = bool(tf.config.list_physical_devices("GPU"))
    notes: list[str] = []
    baseline_rss = resident_bytes()
    task = build_task(name, setup, notes)
    model = task.model
    x, y = task.train
    num_parameters = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    warmup = slice(0, min(setup.num_warmup_examples, len(x)))
    started = time.perf_counter()
    for epoch in range(1, setup.num_warmup_epochs + 1):
        fit_epoch(model, x[warmup], y[warmup], batch_size=task.batch_size, order_key=[0, epoch], epoch=epoch)
    warmup_seconds = time.perf_counter() - started
    validation = tuple(a[:setup.num_validation_examples] for a in task.validation)
    evaluator = Evaluator(model, task.loss, validation)
    first_call, (val_loss, val_accuracy) = _timed(evaluator)
    chance = 1 / task.num_classes
    phases: dict[str, dict] = {}
    epoch_x, epoch_y = (a[-setup.num_epoch_examples:] for a in (x, y))

    def epoch(callbacks=None, examples=None):
        return fit_epoch(model, epoch_x[:examples], epoch_y[:examples], batch_size=task.batch_size,
                         order_key=[1, 0], epoch=1, callbacks=callbacks)

    phases["training_epoch"] = _phase(lambda: epoch(), len(epoch_x), gpu)
    importance_data = tuple(a[:setup.num_importance_examples] for a in (x, y))
    num_importance = len(importance_data[0])
    importances = {}
    for measure_name in [m for m in setup.measures if m not in TRAINING_TIME]:
        measure = _measure(WeightImportance, Aggregation, measure_name)
        needs_data = WeightImportance.measure_class(measure_name).needs_data
        if measure_name == "oracle":
            phases["oracle"] = _oracle_phase(model, measure, importance_data, setup, Aggregation, gpu)
            continue
        phase = _twice(lambda m=measure: importances.__setitem__(measure_name, m.compute(model, importance_data)),
                       num_importance if needs_data else 1, gpu)
        phase.update(needs_data=needs_data, batch_size=getattr(measure, "batch_size", None))
        phases[measure_name] = phase

    scores = importances.get("magnitude") or [np.abs(w.numpy()) for w in model.trainable_weights]
    rankings = {}
    for level in ("weight", "unit"):
        phases[f"ranking_{level}"] = _phase(
            lambda level=level: rankings.__setitem__(level, Aggregation.rank_groups(model, scores, level=level)),
            1, gpu)
    originals = Aggregation.get_weights(model)
    replacements = Aggregation.replacement_values(originals, "noise", seed=0)

    def thresholded():
        Aggregation.apply_masks(model, originals, replacements, rankings["weight"].masks(0.5))
        return evaluator()

    phases["thresholded_evaluation"] = _phase(thresholded, len(validation[0]), gpu)
    phases["thresholded_evaluation"]["first_call_seconds"] = round(first_call, 4)
    Aggregation.restore_weights(model, originals)
    by_examples = {}
    for fraction in (0.25, 0.5, 1.0):
        count = max(1, int(round(fraction * len(validation[0]))))
        part = Evaluator(model, task.loss, tuple(a[:count] for a in validation))
        part()
        by_examples[count] = _timed(part)[0]
    phases["thresholded_evaluation"]["evaluation_seconds_by_examples"] = {
        str(k): round(v, 5) for k, v in by_examples.items()}
    phases["thresholded_evaluation"]["examples_exponent"] = fit_exponent(list(by_examples), list(by_examples.values()))

    half = len(epoch_x) // 2
    trackers = [m for m in setup.measures if m in TRAINING_TIME]
    plain_half = _phase(lambda: epoch(examples=half), half, gpu)["seconds"] if trackers else 0.0
    for measure_name in trackers:
        measure = WeightImportance.get_measure(measure_name)
        tracked = _phase(lambda m=measure: epoch(m.callbacks()), len(epoch_x), gpu)
        tracked_half = _phase(lambda m=measure: epoch(m.callbacks(), half), half, gpu)
        computed = _phase(lambda m=measure: m.compute(model, None), 1, gpu)
        extra = max(tracked["seconds"] - phases["training_epoch"]["seconds"], 0.0)
        # the extra of a tracked epoch is a fixed part per fit call (tracing the recorder) and a part per example:
        # the line through the extras of the whole and the half epoch
        per_example = max((extra - max(tracked_half["seconds"] - plain_half, 0.0)) / (len(epoch_x) - half), 0.0)
        phases[measure_name] = {
            "seconds": round(extra + computed["seconds"], 4), "num_examples": len(epoch_x),
            "seconds_per_example": per_example,
            "fixed_seconds_per_fit": round(max(extra - per_example * len(epoch_x), 0.0), 4),
            "tracked_epoch_seconds": tracked["seconds"], "tracked_half_epoch_seconds": tracked_half["seconds"],
            "plain_half_epoch_seconds": plain_half, "compute_seconds": computed["seconds"],
            "rss_increase_mb": max(tracked["rss_increase_mb"] or 0, computed["rss_increase_mb"] or 0),
            "needs_data": False,
        }
    return {
        "name": name,
        "task": task.name,
        "model": model.name,
        "num_parameters": num_parameters,
        "num_task_training_examples": int(getattr(task, "num_source_training_examples", len(x))),
        "measures": list(setup.measures),
        "training": {"num_examples": warmup.stop, "epochs": setup.num_warmup_epochs, "batch_size": task.batch_size,
                     "seconds": round(warmup_seconds, 2)},
        "validation": {"num_examples": len(validation[0]), "loss": val_loss, "accuracy": val_accuracy,
                       "chance_accuracy": chance, "margin": ACCURACY_MARGIN,
                       "above_chance": bool(val_accuracy > chance + ACCURACY_MARGIN)},
        "phases": phases,
        "baseline_rss_mb": None if baseline_rss is None else round(baseline_rss / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "device": "GPU" if gpu else "CPU",
        "notes": notes,
    }


def _timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def _phase(function, num_examples: int, gpu: bool) -> dict:
    with PeakMemory(gpu) as memory:
        seconds, _ = _timed(function)
    return {"seconds": round(seconds, 4), "num_examples": num_examples, "seconds_per_example": seconds / num_examples,
            **memory.figures()}


def _twice(function, num_examples: int, gpu: bool) -> dict:
    """A phase called twice: ``seconds`` is the first call (tracing included, what a run's first measured epoch
    pays), ``steady_seconds`` the second; ``seconds_per_example`` is the second's."""
    first, second = _phase(function, num_examples, gpu), _phase(function, num_examples, gpu)
    return {**first, "steady_seconds": second["seconds"], "seconds_per_example": second["seconds_per_example"],
            "tracing_seconds": round(max(first["seconds"] - second["seconds"], 0.0), 4),
            "rss_increase_mb": max(first["rss_increase_mb"] or 0, second["rss_increase_mb"] or 0)}


def _measure(WeightImportance, Aggregation, name: str):
    needs = WeightImportance.measure_class(name)
    measure = WeightImportance.get_measure(name, **({"seed": 0} if needs.needs_seed else {}))
    if needs.needs_groups:
        measure.set_grouping(Aggregation.group_ids)
    return measure


def _oracle_phase(model, measure, data, setup: Setup, Aggregation, gpu: bool) -> dict:
    """The oracle by units where the model has at most ``oracle_max_groups``, else by layers (estimated by units)."""
    num_units = Aggregation.group_ids(model, "unit")[1]
    num_layers = Aggregation.group_ids(model, "layer")[1]
    measure.level = "unit" if num_units <= setup.oracle_max_groups else "layer"
    measure.max_groups = max(num_units, num_layers)
    passes = (num_units if measure.level == "unit" else num_layers) + 1
    phase = _twice(lambda: measure.compute(model, data), len(data[0]), gpu)
    per_pass = phase["seconds_per_example"] / passes
    phase.update(level=measure.level, num_units=num_units, num_layers=num_layers, num_forward_passes=passes,
                 estimated_unit_seconds_per_example=per_pass * (num_units + 1),
                 batch_size=measure.batch_size, needs_data=True)
    return phase


# -- the driver ----------------------------------------------------------------------------------------------------
def run_worker(name: str, setup: Setup) -> dict:
    """``measure_model`` in a fresh Python process; its result, or what went wrong."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--setup-json",
               json.dumps(asdict(setup))]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=environment)
    seconds = round(time.perf_counter() - started, 1)
    if done.returncode != 0:
        return {"name": name, "error": done.stderr.strip().splitlines()[-5:], "process_seconds": seconds}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = seconds
    return result


def summarise(models: dict, default_examples: int) -> dict:
    """Ratios, exponents and what does not fit at ``default_examples`` (the main job's num_importance_examples)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None
    measured = {name: result for name, result in models.items() if "phases" in result}
    return {
        "ratios_to_training_epoch": {name: ratios(result) for name, result in measured.items()},
        "exponents": exponents(measured),
        "does_not_fit": {name: does_not_fit(result, default_examples, memory) for name, result in measured.items()},
        "does_not_fit_at": {"num_importance_examples": default_examples, "memory_fraction": MEMORY_FRACTION,
                            "machine_memory_mb": None if memory is None else round(memory / 2**20)},
        "all_above_chance": all(result["validation"]["above_chance"] for result in measured.values()),
        "failed": sorted(set(models) - set(measured)),
    }


def table(result: dict) -> str:
    """A short text table of seconds (and ratio to the training epoch) per phase and model."""
    models = [m for m in result["models"].values() if "phases" in m]
    phases = list(models[0]["phases"]) if models else []
    lines = ["phase".ljust(24) + "".join(f"{m['name'][:18]:>20}" for m in models),
             "parameters".ljust(24) + "".join(f"{m['num_parameters']:>20,}" for m in models)]
    for phase in phases:
        cells = []
        for m in models:
            value = m["phases"].get(phase, {}).get("seconds")
            ratio = result["ratios_to_training_epoch"][m["name"]].get(phase)
            cells.append(f"{value:>11.3f} ({ratio:>5.2f})" if value is not None else " " * 20)
        lines.append(phase.ljust(24) + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


def markdown_tables(result: dict) -> str:
    """docs/cost.md's tables from a stored result: seconds per phase (ratio to the training epoch), the memory
    increase per phase, and the growth exponents."""
    models = [m for m in result["models"].values() if "phases" in m]
    header = "| phase | " + " | ".join(f"{m['name']} ({m['num_parameters']:,} p.)" for m in models) + " | GPU |"
    rule = "|" + " --- |" * (len(models) + 2)
    seconds, memory = [header, rule], [header.replace("| phase |", "| phase (MB) |"), rule]
    for phase in models[0]["phases"] if models else []:
        times, sizes = [], []
        for m in models:
            values = m["phases"].get(phase, {})
            ratio = result["ratios_to_training_epoch"][m["name"]].get(phase)
            times.append("–" if ratio is None else f"{values['seconds']:.3g} s ({ratio:.3g}×)")
            sizes.append("–" if values.get("rss_increase_mb") is None else f"{values['rss_increase_mb']:.0f}")
        seconds.append(f"| {phase} | " + " | ".join(times) + " | not yet measured |")
        memory.append(f"| {phase} | " + " | ".join(sizes) + " | not yet measured |")
    growth = ["| phase | exponent k (seconds per example ∝ P^k) | R² | exponent of the memory increase |",
              "| --- | --- | --- | --- |"]
    for phase, fits in result["exponents"].items():
        time_fit, memory_fit = fits["seconds_per_example"], fits["rss_increase_mb"]
        cells = [f"{time_fit['exponent']:.2f}" if time_fit["exponent"] is not None else "–",
                 f"{time_fit['r_squared']:.2f}" if time_fit["r_squared"] is not None else "–",
                 f"{memory_fit['exponent']:.2f}" if memory_fit["exponent"] is not None else "–"]
        growth.append(f"| {phase} | " + " | ".join(cells) + " |")
    return "\n\n".join("\n".join(lines) for lines in (seconds, memory, growth))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: two small models, tiny subsets")
    parser.add_argument("--models", nargs="+", choices=list(MODELS), help="only these models")
    parser.add_argument("--out", help="also write the JSON object to this file")
    parser.add_argument("--markdown", metavar="FILE.json", help="print the tables of a stored result and stop")
    parser.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    parser.add_argument("--setup-json", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.markdown:
        print(markdown_tables(json.loads(Path(arguments.markdown).read_text())))
        return {}
    if arguments.worker:
        setup = Setup(**{k: tuple(v) if isinstance(v, list) else v
                         for k, v in json.loads(arguments.setup_json).items()})
        from Experiment import ExperimentConfig
        from benchmarks import common

        result = measure_model(arguments.worker, setup)
        result.update(machine=common.machine_info(),
                      default_num_importance_examples=ExperimentConfig.num_importance_examples)
        print(json.dumps(result, default=float))
        return {}
    setup = QUICK if arguments.quick else FULL
    if arguments.models:
        setup = replace(setup, models=tuple(m for m in MODELS if m in arguments.models))
    started = time.perf_counter()
    models = {}
    for name in setup.models:
        print(f"[scale] {name} ...", file=sys.stderr, flush=True)
        models[name] = run_worker(name, setup)
    measured = [m for m in models.values() if "machine" in m]
    machine = measured[0].pop("machine") if measured else {}
    for m in measured[1:]:
        machine["load_average_at_end"] = m.pop("machine")["load_average"]
    machine["device"] = ", ".join(sorted({m["device"] for m in measured})) or None
    default_examples = measured[0]["default_num_importance_examples"] if measured else 1000
    result = {"machine": machine, "setup": asdict(setup), "models": models, **summarise(models, default_examples),
              "total_seconds": round(time.perf_counter() - started, 1)}
    print(table(result), file=sys.stderr)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if arguments.out:
        Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
        Path(arguments.out).write_text(text + "\n")
    return result


if __name__ == "__main__":
    sys.exit(1 if main().get("failed") else 0)
