"""The configuration of a sequential-learning experiment: one flat dataclass of plain values.

Its field names are the parameter names of ``sequential.ipynb``. It is validated when built, saved as JSON beside
the results (``results/foo.csv`` -> ``results/foo.json``) and compared field by field when a run resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import Tasks
from Runs import paths
from Runs.records import ConfigRecord, as_list, check_choices, check_int, check_optional_int, check_results_csv
from Schema import NO_PENALTY
from SequentialLearning.ewc import VARIANTS
from SequentialLearning.importance import available_importances, get_importance
from SequentialLearning.models import check_model
from SequentialLearning.normalization import NORMALIZATIONS
from SequentialLearning.registry import available_sequences

RESULTS_PREFIX = "sequential_"

# Fields that say how to run, not what is measured: they may change between a run and its resumption.
EXECUTION_FIELDS = ("num_trials", "evaluation_batch_size", "progress", "verbose")


@dataclass
class SequentialConfig(ConfigRecord):
    """Everything that defines a sequential-learning experiment.

    Attributes:
        task: registry name of the task the sequence is made from (``Tasks.available_tasks()``).
        task_options: other options of ``Tasks.get_task`` (not ``labels``: ``splits`` chooses them).
        sequence: ``"split"`` (class groups, task-incremental with masked outputs) or ``"permuted"`` (pixel
            permutations, all classes); see ``SequentialLearning/split.py`` and ``permuted.py``.
        num_tasks: number of tasks (for ``split``: the classes cut into that many consecutive groups; taken
            from ``splits`` when those are given).
        splits: for ``split``, the class groups, e.g. ``[[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]`` (empty: by num_tasks).
        model: ``"task"`` (the task's default model), ``"mlp"`` (no BatchNormalization), ``"mlp:256,256"``, ...
            (``SequentialLearning.MODELS``; see ``models.py``).
        seed: seed of trial 0; trial k uses ``seed + k`` for the model, the data order, the permutations and the
            measures' seeds.
        num_trials: independent trials; all go to ``results_csv`` keyed by ``trial``.
        epochs: training epochs per task.
        measures: importances compared: ``none`` (plain fine-tuning, run at λ = 0 only), ``uniform`` (Ω = 1),
            or any registered measure (``random``, ``fisher``, ``magnitude``, ...).
        measure_options: per-measure options, e.g. ``{"fisher": {"labels": "sampled"}}``.
        ewc_lambdas: the λ values swept for every measure but ``none``.
        ewc_variant: ``"separate"`` (one term per finished task) or ``"online"`` (running Ω with ``ewc_decay``).
        ewc_decay: γ of the online variant, in [0, 1].
        normalization: how importances become Ω (``mean``, ``rank``, ``max``, ``none``; see ``normalization.py``).
        batch_size: training batch size (None: the task's).
        num_train_examples: training examples per task (None: all).
        num_validation_examples: validation examples per task evaluated (None: all).
        num_importance_examples: training examples of a task given to a measure after it (None: all).
        evaluation_batch_size: examples per compiled forward pass when evaluating.
        num_threads: TensorFlow's intra-op threads, which the numbers depend on by round-off (``Runs/threads.py``).
            None: the count recorded beside the results when resuming, else TensorFlow's default on this machine
            (its CPUs). The count used is recorded, and a resumed run must use it.
        results_csv: where rows are appended; the configuration goes to the same path with ``.json``. None:
            ``results/sequential_<task>.csv``.
        progress: show tqdm progress bars.
        verbose: show TensorFlow's start-up and retracing log lines in the notebook (``Runs.quiet``).
    """

    EXECUTION_FIELDS = EXECUTION_FIELDS

    task: str = "digits"
    task_options: dict = field(default_factory=dict)
    sequence: str = "split"
    num_tasks: int = 2
    splits: list = field(default_factory=list)
    model: str = "task"
    seed: int = 0
    num_trials: int = 1
    epochs: int = 3
    measures: list = field(default_factory=lambda: ["none", "uniform", "random", "fisher", "magnitude"])
    measure_options: dict = field(default_factory=dict)
    ewc_lambdas: list = field(default_factory=lambda: [0.1, 1.0, 10.0])
    ewc_variant: str = "separate"
    ewc_decay: float = 1.0
    normalization: str = "mean"
    batch_size: int | None = None
    num_train_examples: int | None = None
    num_validation_examples: int | None = None
    num_importance_examples: int | None = 500
    evaluation_batch_size: int = 1024
    num_threads: int | None = None
    results_csv: str | None = None
    progress: bool = True
    verbose: bool = False

    def __post_init__(self):
        for name in ("measures", "ewc_lambdas", "splits"):
            setattr(self, name, as_list(name, getattr(self, name), scalars=(str, int, float)))
        if self.results_csv is None:
            self.results_csv = paths.default_results_csv(str(self.task), prefix=RESULTS_PREFIX)
        self.splits = [list(group) if isinstance(group, (list, tuple)) else group for group in self.splits]
        self.task_options = dict(self.task_options or {})
        self.measure_options = {k: dict(v) for k, v in (self.measure_options or {}).items()}
        self._validate()
        self.ewc_lambdas = [float(v) for v in self.ewc_lambdas]
        self.ewc_decay = float(self.ewc_decay)

    def _validate(self) -> None:
        if "labels" in self.task_options:
            raise ValueError("task_options may not hold 'labels': the labels of each task come from splits.")
        Tasks.check_task_options(self.task, self.task_options)  # a clear error for an unknown task or option
        if self.sequence not in available_sequences():
            raise ValueError(f"Unknown sequence {self.sequence!r}; valid: {available_sequences()}.")
        check_model(self.model)
        for name in ("seed", "num_trials", "epochs", "num_tasks", "evaluation_batch_size"):
            check_int(name, getattr(self, name), minimum={"seed": 0, "num_tasks": 2}.get(name, 1))
        for name in ("batch_size", "num_train_examples", "num_validation_examples", "num_importance_examples",
                     "num_threads"):
            check_optional_int(name, getattr(self, name), minimum=1)
        if self.splits:
            if self.sequence != "split":
                raise ValueError(f"splits are for the split sequence; sequence is {self.sequence!r}.")
            if len(self.splits) < 2 or not all(isinstance(g, list) and g and all(
                    isinstance(c, int) and not isinstance(c, bool) for c in g) for g in self.splits):
                raise ValueError(f"splits must be at least two non-empty lists of class ids; got {self.splits!r}.")
            self.num_tasks = len(self.splits)
        check_choices("measures", self.measures, available_importances())
        if len(set(self.measures)) != len(self.measures):
            raise ValueError(f"measures lists a measure twice: {self.measures}.")
        for name, options in self.measure_options.items():
            get_importance(name, **options)  # raises on an unknown measure or option
        if any(m != NO_PENALTY for m in self.measures) and not self.ewc_lambdas:
            raise ValueError("ewc_lambdas is empty; give the λ values to sweep, e.g. [0.1, 1, 10].")
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
        check_results_csv(self.results_csv)

    # -- derived values ---------------------------------------------------------------------------------------
    def trial_seed(self, trial: int) -> int:
        return self.seed + trial

    def lambdas_of(self, measure: str) -> list[float]:
        """The λ values run for ``measure``: only 0 for ``none``."""
        return [0.0] if measure == NO_PENALTY else list(self.ewc_lambdas)

    def runs(self) -> list[tuple[str, float]]:
        """(measure, λ) pairs of one trial, in the order they are run."""
        return [(measure, value) for measure in self.measures for value in self.lambdas_of(measure)]

