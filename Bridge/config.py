"""The configuration of a bridge study: one flat dataclass of plain values.

Its field names are the parameter names of ``bridge.ipynb`` and the options of ``python -m Bridge``. It is composed of
the field groups the two runners use (``Runs/records.py``), so each field is defined and validated once, with the
message either runner gives; it is saved as JSON beside each part's CSV and compared field by field when a study
resumes.

Measures are named by *labels*: a registry name (``fisher``) or a variant of one, ``NAME@VARIANT``
(``fisher@sampled``), whose options are given under the full label in ``measure_options``
(``{"fisher@sampled": {"labels": "sampled"}}``). Labels are what the CSVs' ``measure`` column holds, so the same
measure can be judged with two sets of options in one study (the runners' ``measure_options`` are keyed by
registry name and hold one set each).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from Experiment import ExperimentConfig
from Experiment.config import ThresholdingGrid
from Runs import paths as run_paths
from Runs.records import ConfigRecord, ExecutionFields, RunFields, as_list, check_int
from Schema import BASELINE_MEASURE, BRIDGE_EWC_SCORES, BRIDGE_PRIMARY, BRIDGE_THRESHOLDING_METRICS, CONTROL_PREFIX
from Schema import KEY_DIGITS, NO_PENALTY, UNIFORM_PENALTY, VARIANT_SEPARATOR
from Schema import registry_name as base_measure  # a label's registry name: fisher@sampled -> fisher
from SequentialLearning import SequentialConfig, get_importance
from SequentialLearning.config import SequenceSettings

# The EWC baselines every study runs besides its measures: plain fine-tuning and Ω = 1.
EWC_BASELINES = (NO_PENALTY, UNIFORM_PENALTY)
RESULTS_PREFIX = "bridge_"
# The smallest low end of ``lambda_bounds``: λ are keyed to ``KEY_DIGITS`` decimal places, so a smaller λ would keep
# fewer than 3 significant digits in its key (and 1e-11 would be keyed as λ = 0).
MIN_LAMBDA_BOUND = 10.0 ** -(KEY_DIGITS - 2)


@dataclass
class BridgeConfig(RunFields, ExecutionFields, ThresholdingGrid, SequenceSettings, ConfigRecord):
    """Everything that defines a bridge study (see ``Bridge/__init__.py`` for what is measured): the fields of
    ``Runs.records.RunFields`` and ``Runs.records.ExecutionFields`` (how trials are run), of the thresholding runner's ``Experiment.config.ThresholdingGrid`` and of the
    sequential runner's ``SequentialLearning.config.SequenceSettings`` (documented there, with this study's defaults
    below), and its own.

    Task A is the sequence's first task; ``epochs`` are per task and are the thresholding rows' ``epoch``;
    ``num_train_examples`` are the examples each task is trained on (None: all but the selection examples);
    ``num_validation_examples`` (per task) are the reported split, on which task A is thresholded and every run is
    reported; ``num_importance_examples`` are task A's training examples given to the measures, and those of each
    later task when a sequence goes on past task B. The trial's seed also seeds the permutations and the
    thresholding's tie-breaks and replacement noise.

    Attributes:
        measures: measure labels (module docstring) judged both ways. ``random`` is always judged too; the EWC
            baselines ``none`` (fine-tuning) and ``uniform`` (Ω = 1) are always run.
        measure_options: options per label, e.g. ``{"fisher@sampled": {"labels": "sampled"}}``.
        lambda_extension_factor, lambda_bounds: λ beyond the grid (``Bridge/extension.py``). Once every trial is
            complete, a measure (or ``uniform``) whose λ chosen on the selection split is the smallest (largest)
            it was run with is run at λ / factor (λ × factor) in every trial, until its choice is interior or the
            next λ would leave ``lambda_bounds`` [low, high]. ``lambda_extension_factor`` None or 1: the grid
            only. Both define the study (they decide which runs exist); a study recorded before them reads them
            as these defaults, so resuming it extends it.
        num_selection_examples: training examples of each task held out from training, on which λ is chosen
            (the selection split: every run is evaluated on it too, into its own CSV).
        primary_thresholding_metric, primary_ewc_score, primary_aggregation_level: the primary hypothesis,
            declared before the data (``docs/bridge.md``): that this thresholding metric (of
            ``Schema.BRIDGE_THRESHOLDING_METRICS``) at this level (of ``aggregation_levels``) ranks the measures as
            this EWC score (of ``Schema.BRIDGE_EWC_SCORES``) does, each measure at its λ chosen on the selection
            split. Part of the study's identity, so a resumed study keeps its declaration; the analysis reads them
            from the JSON (a JSON without them: the defaults) and may be given another primary, which its report
            then names as not the declared one.
        results_dir: the study's folder (``Bridge/paths.py``); None: ``results/bridge_<sequence>_<task>``.
    """

    RECORDED_ONLY = ("results_dir", "task_options.data_dir")

    # This study's defaults for fields of the groups.
    aggregation_levels: list = field(default_factory=lambda: ["weight"])
    orders: list = field(default_factory=lambda: ["least", "most"])
    sequence: str = "permuted"
    model: str = "mlp"
    # Its own fields.
    measures: list = field(default_factory=lambda: ["magnitude", "fisher", "mas"])
    measure_options: dict = field(default_factory=dict)
    lambda_extension_factor: float | None = 10.0
    lambda_bounds: list = field(default_factory=lambda: [1e-4, 1e4])
    num_selection_examples: int = 300
    primary_thresholding_metric: str = BRIDGE_PRIMARY["primary_thresholding_metric"]
    primary_ewc_score: str = BRIDGE_PRIMARY["primary_ewc_score"]
    primary_aggregation_level: str = BRIDGE_PRIMARY["primary_aggregation_level"]
    results_dir: str | None = None

    def __post_init__(self):
        self.measures = as_list("measures", self.measures)
        self.lambda_bounds = as_list("lambda_bounds", self.lambda_bounds, scalars=())
        if self.results_dir is None:
            self.results_dir = str(run_paths.default_results_csv(f"{self.sequence}_{self.task}",
                                                                 prefix=RESULTS_PREFIX))[: -len(".csv")]
        self.measure_options = {str(k): dict(v) for k, v in (self.measure_options or {}).items()}
        self._validate()
        self.lambda_extension_factor = (None if self.lambda_extension_factor in (None, 1)
                                        else float(self.lambda_extension_factor))
        self.lambda_bounds = [float(v) for v in self.lambda_bounds]

    # -- validation ------------------------------------------------------------------------------------------
    def _validate(self) -> None:
        self.check_run_fields()
        self.check_execution()
        self.check_grid()
        self.check_sequence()
        check_int("num_selection_examples", self.num_selection_examples, minimum=1)
        for name, valid in (("primary_thresholding_metric", BRIDGE_THRESHOLDING_METRICS),
                            ("primary_ewc_score", BRIDGE_EWC_SCORES),
                            ("primary_aggregation_level", self.aggregation_levels)):
            if getattr(self, name) not in valid:
                raise ValueError(f"{name} is {getattr(self, name)!r}; the primary hypothesis names one of "
                                 f"{list(valid)}.")
        self._validate_lambda_extension()
        if not isinstance(self.results_dir, str) or not self.results_dir:
            raise ValueError(f"results_dir must be a folder path; got {self.results_dir!r}.")
        for label in self.measures:
            if not isinstance(label, str) or label.startswith(CONTROL_PREFIX):
                raise ValueError(f"measures holds {label!r}: a measure label is NAME or NAME{VARIANT_SEPARATOR}"
                                 f"VARIANT (controls such as {CONTROL_PREFIX}NAME are not part of this study).")
            if label in EWC_BASELINES:
                raise ValueError(f"measures holds the EWC baseline {label!r}, which every study runs; list only "
                                 "the measures to judge.")
        if len(set(self.measures)) != len(self.measures):
            raise ValueError(f"measures lists a label twice: {self.measures}.")
        unknown = sorted(set(self.measure_options) - set(self.labels()))
        if unknown:
            raise ValueError(f"measure_options has options for {unknown}, which measures does not list; labels: "
                             f"{self.labels()}.")
        for label in self.labels():
            get_importance(base_measure(label), **self.options_of(label))  # unknown measure or option: an error
        # The runners validate the rest of what they will be given (the task and its options), with their messages.
        self.thresholding_config(self.labels())
        self.sequential_config()

    def _validate_lambda_extension(self) -> None:
        factor = self.lambda_extension_factor
        if factor is not None and (isinstance(factor, bool) or not isinstance(factor, (int, float))
                                   or not 1 <= factor < math.inf):
            raise ValueError(f"lambda_extension_factor must be a number > 1 (an edge λ is divided or multiplied by "
                             f"it), or 1 or None for the grid only; got {factor!r}.")
        bounds = self.lambda_bounds
        numbers = all(not isinstance(v, bool) and isinstance(v, (int, float)) for v in bounds)
        if len(bounds) != 2 or not numbers or not MIN_LAMBDA_BOUND <= bounds[0] <= bounds[1] < math.inf:
            hint = (" (YAML reads 1e-4 as text: write 1.0e-4)" if any(isinstance(v, str) for v in bounds) else "")
            raise ValueError(f"lambda_bounds must be two numbers [low, high] with {MIN_LAMBDA_BOUND:g} <= low <= "
                             f"high, the λ the extension may reach (λ are keyed to {KEY_DIGITS} decimal places); "
                             f"got {bounds!r}{hint}.")

    # -- derived values ---------------------------------------------------------------------------------------
    def labels(self) -> list[str]:
        """The measures judged both ways: ``random`` first, then ``measures``."""
        return [BASELINE_MEASURE, *(label for label in self.measures if label != BASELINE_MEASURE)]

    def ewc_measures(self) -> list[str]:
        """Every importance an EWC run is made with: the baselines ``none`` and ``uniform``, then ``labels()``."""
        return [*EWC_BASELINES, *self.labels()]

    def options_of(self, label: str) -> dict:
        return dict(self.measure_options.get(label, {}))

    def lambdas_of(self, label: str, extended=()) -> list[float]:
        """The λ values run for ``label``, ascending: only 0 for ``none``; otherwise ``ewc_lambdas`` and
        ``extended``, the values the study extended them with (``Bridge.extension``)."""
        if label == NO_PENALTY:
            return [0.0]
        values = {round(float(v), KEY_DIGITS): float(v) for v in extended}
        values.update({round(v, KEY_DIGITS): v for v in self.ewc_lambdas})
        return sorted(values.values())

    def runs(self, extended: dict | None = None) -> list[tuple[str, float]]:
        """(measure label, λ) of one trial's EWC runs, in the order they are run; ``extended``: per label, the λ
        the study added to the grid (``Bridge.extension``; None: none)."""
        extended = extended or {}
        return [(label, value) for label in self.ewc_measures()
                for value in self.lambdas_of(label, extended.get(label, ()))]

    def thresholding_config(self, measures: list[str], results_csv: str = "thresholding.csv") -> ExperimentConfig:
        """The ``ExperimentConfig`` whose grid ``Experiment.EpochGrid`` runs on task A's model for ``measures``
        (labels; the importances are the study's, so their options are not needed here). No training
        examples are evaluated at each threshold (``loss`` and ``accuracy`` are NaN), and every validation example
        at every threshold (``validation_precision=None``)."""
        return ExperimentConfig(**self.run_values(), **self.grid_values(), measures=list(measures),
                                validation_precision=None, num_train_loss_examples=0, results_csv=results_csv)

    def sequential_config(self) -> SequentialConfig:
        """The sequence and EWC settings as a ``SequentialConfig`` (registry names, options not included)."""
        bases = list(dict.fromkeys(base_measure(label) for label in self.ewc_measures()))
        return SequentialConfig(**self.run_values(), **self.sequence_values(), measures=bases,
                                results_csv="sequential.csv")


@dataclass
class PartConfig(BridgeConfig):
    """The study's configuration as recorded beside one part's CSV: every ``BridgeConfig`` field and that CSV's
    path, ``results_csv`` (what ``Runs.run_files.RunFiles`` holds a run's files by)."""

    RECORDED_ONLY = ("results_dir", "results_csv", "task_options.data_dir")

    results_csv: str = "results.csv"

    @classmethod
    def of(cls, config: BridgeConfig, results_csv) -> PartConfig:
        return cls(**config.to_dict(), results_csv=str(results_csv))

    def study(self) -> BridgeConfig:
        values = self.to_dict()
        values.pop("results_csv")
        return BridgeConfig(**values)
