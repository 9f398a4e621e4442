"""The configuration of a thresholding experiment: one flat dataclass of plain values.

Its field names are the parameter names of ``main.ipynb``, so a notebook parameter and a configuration field are
one thing. It is validated when built, saved as JSON beside the results, and compared field by field when a run
resumes, so results of two different configurations are never mixed in one file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import Aggregation
import Tasks
import WeightImportance
from Experiment import thresholds as grids
from Experiment.controls import base_measure
from Runs import paths
from Runs.records import (ConfigRecord, ExecutionFields, RunFields, as_list, check_choices, check_int, check_number,
                          check_optional_int, check_results_csv, values_of)
from Runs.tensorboard import check_tensorboard
from Schema import BASELINE_MEASURE, CONTROL_PREFIX, DEFAULT_TOLERANCE, NO_AGGREGATION, VARIANT_SEPARATOR, registry_name

@dataclass
class ThresholdingGrid:
    """The curves a thresholding run measures and where on them (a field group of ``ExperimentConfig`` and of
    ``Bridge.BridgeConfig``; ``Runs/records.py``).

    Attributes:
        aggregation_levels, aggregation_methods, scopes, orders: the grid (``Aggregation.LEVELS`` ...). At level
            ``weight`` there is nothing to aggregate and the method is recorded as ``none``.
        num_thresholds: thresholds per curve from 0 to 1 inclusive, used when ``thresholds`` is empty: the number of
            fractions (``linear``, ``geometric``) or the budget of evaluations per curve (``adaptive``, at least 5).
        threshold_spacing: ``linear`` (evenly spaced), ``geometric`` (dense near 0) or ``adaptive`` (chosen per
            curve where it changes; see ``Experiment/thresholds.py``).
        adaptive_tolerance: the relative tolerance whose crossing the ``adaptive`` spacing locates first: the
            first fraction whose loss exceeds ``L0 (1 + adaptive_tolerance)``. Default ``Schema.DEFAULT_TOLERANCE``,
            the tolerance the analysis' ``max_fraction_within_tolerance`` uses by default, so the fraction it reports
            is the one refined. Part of an adaptive run's identity (it changes which thresholds are measured);
            other spacings ignore it, so changing it never stops a linear or geometric run from resuming.
        thresholds: explicit fractions to remove, each in [0, 1]; overrides ``num_thresholds`` (spacing linear).
        parameters: which trainable tensors are ranked and replaced: ``all``, ``kernels`` (Dense and convolution
            kernels only) or ``no_normalization`` (``Aggregation.PARAMETERS``); fractions are of those.
        replacement: ``noise`` or ``zero`` (``Aggregation.REPLACEMENTS``).
    """

    aggregation_levels: list = field(default_factory=lambda: ["weight", "unit"])
    aggregation_methods: list = field(default_factory=lambda: ["mean"])
    scopes: list = field(default_factory=lambda: ["layer"])
    orders: list = field(default_factory=lambda: ["least"])
    num_thresholds: int = 11
    threshold_spacing: str = "linear"
    adaptive_tolerance: float = DEFAULT_TOLERANCE
    thresholds: list = field(default_factory=list)
    parameters: str = "all"
    replacement: str = "noise"

    def grid_values(self) -> dict:
        """This configuration's ``ThresholdingGrid`` values, by name."""
        return values_of(self, ThresholdingGrid)

    def check_grid(self) -> None:
        """Lists made of single values, then a ValueError for a grid value that is not valid, naming the valid ones."""
        for name in ("aggregation_levels", "aggregation_methods", "scopes", "orders", "thresholds"):
            setattr(self, name, as_list(name, getattr(self, name)))
        check_int("num_thresholds", self.num_thresholds, minimum=1)
        if self.threshold_spacing not in grids.SPACINGS:
            raise ValueError(f"Unknown threshold_spacing {self.threshold_spacing!r}; valid: {list(grids.SPACINGS)}.")
        if self.thresholds and self.threshold_spacing != "linear":
            raise ValueError(f"thresholds lists explicit fractions, so threshold_spacing must stay 'linear'; got "
                             f"{self.threshold_spacing!r}. Give either thresholds or a spacing with num_thresholds.")
        smallest = len(grids.ADAPTIVE_START) if self.threshold_spacing == "adaptive" else 2
        if self.num_thresholds < smallest and not self.thresholds:
            raise ValueError(f"num_thresholds must be at least {smallest} for threshold_spacing "
                             f"{self.threshold_spacing!r}; got {self.num_thresholds}.")
        check_number("adaptive_tolerance", self.adaptive_tolerance, minimum=0)
        if self.parameters not in Aggregation.PARAMETERS:
            raise ValueError(f"Unknown parameters {self.parameters!r}; valid: {list(Aggregation.PARAMETERS)}.")
        for name, valid in (("aggregation_levels", Aggregation.LEVELS), ("aggregation_methods", Aggregation.METHODS),
                            ("scopes", Aggregation.SCOPES), ("orders", Aggregation.ORDERS)):
            check_choices(name, getattr(self, name), valid)
        if self.replacement not in Aggregation.REPLACEMENTS:
            raise ValueError(f"Unknown replacement {self.replacement!r}; valid: {list(Aggregation.REPLACEMENTS)}.")
        for threshold in self.thresholds:
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
                raise ValueError(f"thresholds must be fractions in [0, 1]; got {threshold!r}.")

    def threshold_values(self) -> list[float]:
        """The fractions every curve measures, sorted: ``thresholds`` if given, else ``num_thresholds`` spaced as
        ``threshold_spacing`` says; for ``adaptive``, the starting fractions (the others depend on the curve)."""
        if self.thresholds:
            return sorted({float(t) for t in self.thresholds})
        if self.threshold_spacing == "adaptive":
            return list(grids.ADAPTIVE_START)
        return getattr(grids, self.threshold_spacing)(self.num_thresholds)

    def aggregations(self) -> list[tuple[str, str]]:
        """(level, method) pairs; level ``weight`` has the single method ``none``."""
        pairs = []
        for level in self.aggregation_levels:
            methods = [NO_AGGREGATION] if level == "weight" else self.aggregation_methods
            pairs.extend((level, method) for method in methods)
        return pairs



@dataclass
class ExperimentConfig(RunFields, ExecutionFields, ThresholdingGrid, ConfigRecord):
    """Everything that defines a thresholding experiment: the fields of ``Runs.records.RunFields``, of
    ``Runs.records.ExecutionFields`` (how trials are run) and of ``ThresholdingGrid`` (documented there) and the
    ones below.

    ``task`` is a task name (``Tasks.available_tasks()``, incl. ones added with ``Tasks.register_task``),
    ``tfds:NAME`` for a TensorFlow Datasets image set, or ``"package.module:build_task"``, a function
    ``build_task(seed=0, **options) -> Task`` in an importable module (docs/tasks.md, "Your own model and data").
    The trial's seed also seeds the ``random`` measure, tie-breaking and the replacement noise.

    Attributes:
        measure_every: measure after every k-th epoch (epochs k, 2k, ...); the last epoch is always measured.
        measures: registry names of importance measures, ``NAME@VARIANT`` for NAME with the options given under
            that label (``fisher@sampled``, to compare estimators in one run), or ``shuffled:NAME`` (any label) for
            its layer-shuffled control. ``random`` is always run as well. The label is the ``measure`` column.
        measure_options: options per label, e.g. ``{"fisher": {"num_samples": 500}, "fisher@sampled": {"labels":
            "sampled"}}``; a variant's options are its own (not merged with NAME's), a control uses its label's.
        save_importances: keep each measure's importances of each trial and measured epoch beside the results
            (``results/foo_importances/trial_k/epoch_e/MEASURE.npz``; ``WeightImportance.load_importances``).
        validation_precision: None evaluates every validation example at every threshold; a number ``p > 0``
            evaluates them in a seeded order (the trial's seed) and stops a row once the standard error of its mean
            loss difference from the trained model, on the same examples, is at most ``p (chance_val_loss - L0)``
            (``Experiment/budget.py``); the row records how many it used (``num_val_examples_used``). Part of a
            run's identity; a configuration saved before the field existed reads as None (how it was run).
        num_train_loss_examples: training examples whose loss is recorded at each threshold (None: all; 0, the
            default: none, ``loss`` and ``accuracy`` are NaN). The analysis ranks by the validation loss only, so the
            training loss is off unless asked for; a configuration saved with another count resumes with it. Saved
            configurations and dicts name it ``num_train_examples`` (its name until that name was given the one
            meaning it has in the other studies: the examples trained on); they are read as this field.
        num_importance_examples: as in ``RunFields``; default 1000.
        results_csv: where rows are appended; the configuration goes to the same path with ``.json``. None:
            ``results/<task>.csv``.
        verbose: show TensorFlow's start-up and retracing log lines in the notebook (``Runs.quiet``).
        tensorboard_dir: a folder for a TensorBoard log of the run, one sub-folder per trial: training and
            validation loss and accuracy per epoch, each measure's importance histograms per tensor at each measured
            epoch, each curve's validation loss as it is measured (``Runs.tensorboard``; needs the ``tensorboard``
            package). None: no log. How a run is watched, not what it measures: it may change on resume.
    """

    RENAMED = {"num_train_examples": "num_train_loss_examples"}

    measure_every: int = 1
    measures: list = field(default_factory=lambda: ["magnitude", "fisher", "sign_flips"])
    measure_options: dict = field(default_factory=dict)
    save_importances: bool = False
    validation_precision: float | None = 0.01
    num_train_loss_examples: int | None = 0
    num_importance_examples: int | None = 1000
    results_csv: str | None = None
    verbose: bool = False
    tensorboard_dir: str | None = None

    def __post_init__(self):
        self.measures = as_list("measures", self.measures)
        if self.results_csv is None:
            self.results_csv = paths.default_results_csv(str(self.task))
        self.measure_options = {k: dict(v) for k, v in (self.measure_options or {}).items()}
        self._validate()

    # -- validation ------------------------------------------------------------------------------------------
    def _validate(self) -> None:
        self.check_run_fields()
        Tasks.check_task_options(self.task, self.task_options)  # a clear error for an unknown task or option
        check_int("measure_every", self.measure_every, minimum=1)
        if self.measure_every > self.epochs:
            raise ValueError(f"measure_every ({self.measure_every}) is larger than epochs ({self.epochs}), so no epoch "
                             "but the last would be measured; use a value from 1 to epochs.")
        self.check_grid()
        check_optional_int("num_train_loss_examples", self.num_train_loss_examples, minimum=0)
        if self.validation_precision is not None:
            check_number("validation_precision", self.validation_precision, minimum=0)
            if self.validation_precision == 0:
                raise ValueError("validation_precision must be a number > 0 (the standard error allowed, relative to "
                                 "chance_val_loss - L0) or None (every validation example at every threshold); got 0.")
        if not self.measures:
            raise ValueError("measures is empty; choose from " f"{WeightImportance.available_measures()}.")
        for measure in self.measures:
            label = base_measure(measure)
            name, _, variant = label.partition(VARIANT_SEPARATOR)
            if name not in WeightImportance.available_measures() or (VARIANT_SEPARATOR in label and not variant):
                raise ValueError(
                    f"Unknown measure {measure!r}; valid measures: {WeightImportance.available_measures()}, "
                    f"NAME{VARIANT_SEPARATOR}VARIANT for NAME with the options under that label in measure_options, "
                    f"or '{CONTROL_PREFIX}NAME' for a measure's layer-shuffled control."
                )
        if len(set(self.measures)) != len(self.measures):
            raise ValueError(f"measures lists a measure twice: {self.measures}.")
        for label, options in self.measure_options.items():
            WeightImportance.get_measure(registry_name(label), **options)  # raises on an unknown measure or option
        self.check_execution()
        check_results_csv(self.results_csv)
        if self.tensorboard_dir is not None:
            if not isinstance(self.tensorboard_dir, (str, os.PathLike)) or not str(self.tensorboard_dir):
                raise ValueError(f"tensorboard_dir must be a folder path or None; got {self.tensorboard_dir!r}.")
            self.tensorboard_dir = str(self.tensorboard_dir)
            check_tensorboard()  # a clear error naming what to install, before anything is run

    # What a field absent from a saved configuration (saved before the field existed) means: how that run was run,
    # which is not always the field's default for a new run.
    SAVED_BEFORE = {"validation_precision": None}

    @classmethod
    def from_dict(cls, values: dict):
        return super().from_dict({**cls.SAVED_BEFORE, **values})

    def differences(self, other) -> dict[str, tuple]:
        """As ``ConfigRecord.differences``, but ``adaptive_tolerance`` counts only where a run's spacing is
        ``adaptive`` (the other spacings never read it). A configuration saved before the field existed reads as
        the default tolerance, the one those runs used."""
        found = super().differences(other)
        if "adaptive" not in (self.threshold_spacing, other.threshold_spacing):
            found.pop("adaptive_tolerance", None)
        return found

    # -- derived values ---------------------------------------------------------------------------------------
    def measured_epochs(self) -> list[int]:
        """Epochs (1-based counts of finished epochs) after which the grid is measured."""
        epochs = {e for e in range(1, self.epochs + 1) if e % self.measure_every == 0}
        return sorted(epochs | {self.epochs})

    def measure_names(self) -> list[str]:
        """The measures run: the configured ones with ``random`` first if it was not listed."""
        names = list(self.measures)
        return names if BASELINE_MEASURE in names else [BASELINE_MEASURE, *names]

