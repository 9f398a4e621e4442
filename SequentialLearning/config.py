"""The configuration of a sequential-learning experiment: one flat dataclass of plain values.

Its field names are the parameter names of ``sequential.ipynb``. It is validated when built, saved as JSON beside
the results (``results/foo.csv`` -> ``results/foo.json``) and compared field by field when a run resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import Tasks
from Runs import paths
from Runs.records import (ConfigRecord, ExecutionFields, RunFields, as_list, check_choices, check_int, check_optional_int,
                          check_results_csv, values_of)
from Schema import NO_PENALTY
from SequentialLearning.ewc import VARIANTS
from SequentialLearning.importance import available_importances, get_importance
from SequentialLearning.models import check_model
from SequentialLearning.normalization import NORMALIZATIONS
from SequentialLearning.registry import available_sequences

RESULTS_PREFIX = "sequential_"


@dataclass
class SequenceSettings:
    """The task sequence, the model that learns it and the EWC sweep (a field group of ``SequentialConfig`` and of
    ``Bridge.BridgeConfig``; ``Runs/records.py``).

    Attributes:
        sequence: ``"split"`` (class groups, task-incremental with masked outputs) or ``"permuted"`` (pixel
            permutations, all classes); see ``SequentialLearning/split.py`` and ``permuted.py``.
        num_tasks: number of tasks (for ``split``: the classes cut into that many consecutive groups; taken
            from ``splits`` when those are given).
        splits: for ``split``, the class groups, e.g. ``[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]`` (empty: by num_tasks).
        model: ``"task"`` (the task's default model), ``"mlp"`` (no BatchNormalization), ``"mlp:256,256"``, ...
            (``SequentialLearning.MODELS``; see ``models.py``).
        num_train_examples: training examples each task is trained on (None: all; a bridge study holds its
            selection examples out first).
        ewc_lambdas: the λ values swept for every importance but ``none``.
        ewc_variant: ``"separate"`` (one term per finished task) or ``"online"`` (running Ω with ``ewc_decay``).
        ewc_decay: γ of the online variant, in [0, 1].
        normalization: how importances become Ω (``mean``, ``rank``, ``max``, ``none``; see ``normalization.py``).
    """

    sequence: str = "split"
    num_tasks: int = 2
    splits: list = field(default_factory=list)
    model: str = "task"
    num_train_examples: int | None = None
    ewc_lambdas: list = field(default_factory=lambda: [0.1, 1.0, 10.0])
    ewc_variant: str = "separate"
    ewc_decay: float = 1.0
    normalization: str = "mean"

    def sequence_values(self) -> dict:
        """This configuration's ``SequenceSettings`` values, by name."""
        return values_of(self, SequenceSettings)

    def check_sequence(self) -> None:
        """Lists made of single values, then a ValueError for a value that is not valid, naming the valid ones; λ
        values become floats. ``num_tasks`` is taken from ``splits`` when those are given."""
        self.ewc_lambdas = as_list("ewc_lambdas", self.ewc_lambdas, scalars=(int, float))
        self.splits = as_list("splits", self.splits, scalars=(str, int, float))
        self.splits = [list(group) if isinstance(group, (list, tuple)) else group for group in self.splits]
        if self.sequence not in available_sequences():
            raise ValueError(f"Unknown sequence {self.sequence!r}; valid: {available_sequences()}.")
        check_model(self.model)
        check_int("num_tasks", self.num_tasks, minimum=2)
        check_optional_int("num_train_examples", self.num_train_examples, minimum=1)
        if self.splits:
            if self.sequence != "split":
                raise ValueError(f"splits are for the split sequence; sequence is {self.sequence!r}.")
            if len(self.splits) < 2 or not all(isinstance(g, list) and g and all(
                    isinstance(c, int) and not isinstance(c, bool) for c in g) for g in self.splits):
                raise ValueError(f"splits must be at least two non-empty lists of class ids; got {self.splits!r}.")
            self.num_tasks = len(self.splits)
        for value in self.ewc_lambdas:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"ewc_lambdas must be numbers >= 0; got {value!r}.")
        if len({float(v) for v in self.ewc_lambdas}) != len(self.ewc_lambdas):
            raise ValueError(f"ewc_lambdas lists a value twice: {self.ewc_lambdas}.")
        if self.ewc_variant not in VARIANTS:
            raise ValueError(f"Unknown ewc_variant {self.ewc_variant!r}; valid: {list(VARIANTS)}.")
        if isinstance(self.ewc_decay, bool) or not isinstance(self.ewc_decay, (int, float)) \
                or not 0 <= self.ewc_decay <= 1:
            raise ValueError(f"ewc_decay must be in [0, 1]; got {self.ewc_decay!r}.")
        if self.normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {self.normalization!r}; valid: {list(NORMALIZATIONS)}.")
        self.ewc_lambdas = [float(v) for v in self.ewc_lambdas]
        self.ewc_decay = float(self.ewc_decay)


@dataclass
class SequentialConfig(RunFields, ExecutionFields, SequenceSettings, ConfigRecord):
    """Everything that defines a sequential-learning experiment: the fields of ``Runs.records.RunFields``, of
    ``Runs.records.ExecutionFields`` (how trials are run) and of ``SequenceSettings`` (documented there) and the
    ones below.

    ``task`` is the registry name of the task the sequence is made from (``Tasks.available_tasks()``), and
    ``task_options`` may not hold ``labels`` (``splits`` chooses them); ``epochs`` are per task;
    ``num_validation_examples`` are per task; ``num_importance_examples`` are the training examples of a task given
    to a measure after it. The trial's seed also seeds the permutations.

    Attributes:
        measures: importances compared: ``none`` (plain fine-tuning, run at λ = 0 only), ``uniform`` (Ω = 1),
            or any registered measure (``random``, ``fisher``, ``magnitude``, ...).
        measure_options: per-measure options, e.g. ``{"fisher": {"labels": "sampled"}}``.
        results_csv: where rows are appended; the configuration goes to the same path with ``.json``. None:
            ``results/sequential_<task>.csv``.
        verbose: show TensorFlow's start-up and retracing log lines in the notebook (``Runs.quiet``).
    """

    measures: list = field(default_factory=lambda: ["none", "uniform", "random", "fisher", "magnitude"])
    measure_options: dict = field(default_factory=dict)
    results_csv: str | None = None
    verbose: bool = False

    def __post_init__(self):
        self.measures = as_list("measures", self.measures)
        if self.results_csv is None:
            self.results_csv = paths.default_results_csv(str(self.task), prefix=RESULTS_PREFIX)
        self.measure_options = {k: dict(v) for k, v in (self.measure_options or {}).items()}
        self._validate()

    def _validate(self) -> None:
        self.check_run_fields()
        self.check_execution()
        if "labels" in self.task_options:
            raise ValueError("task_options may not hold 'labels': the labels of each task come from splits.")
        Tasks.check_task_options(self.task, self.task_options)  # a clear error for an unknown task or option
        self.check_sequence()
        check_choices("measures", self.measures, available_importances())
        if len(set(self.measures)) != len(self.measures):
            raise ValueError(f"measures lists a measure twice: {self.measures}.")
        for name, options in self.measure_options.items():
            get_importance(name, **options)  # raises on an unknown measure or option
        if any(m != NO_PENALTY for m in self.measures) and not self.ewc_lambdas:
            raise ValueError("ewc_lambdas is empty; give the λ values to sweep, e.g. [0.1, 1, 10].")
        check_results_csv(self.results_csv)

    # -- derived values ---------------------------------------------------------------------------------------
    def lambdas_of(self, measure: str) -> list[float]:
        """The λ values run for ``measure``: only 0 for ``none``."""
        return [0.0] if measure == NO_PENALTY else list(self.ewc_lambdas)

    def runs(self) -> list[tuple[str, float]]:
        """(measure, λ) pairs of one trial, in the order they are run."""
        return [(measure, value) for measure in self.measures for value in self.lambdas_of(measure)]
