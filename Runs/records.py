"""Configuration records shared by the runners: validation helpers for flat dataclasses of plain values, a JSON
round trip, the check that a resumed run has the configuration its results were made with, and the fields every
study has (``RunFields``).

A study's configuration is composed of field groups, each defined once where it belongs and documented there:
``RunFields`` and ``ExecutionFields`` here (what every study has, and how its trials are run),
``Experiment.config.ThresholdingGrid`` (the curves measured) and
``SequentialLearning.config.SequenceSettings`` (the task sequence and the EWC sweep). ``ExperimentConfig`` is
``RunFields`` + ``ExecutionFields`` + ``ThresholdingGrid`` + its own fields, ``SequentialConfig`` is ``RunFields`` +
``ExecutionFields`` + ``SequenceSettings`` + its own, and ``Bridge.BridgeConfig`` is all four groups + its own, so no configuration restates another's fields.
A field has one meaning in every configuration that has it; a study may give it another default.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from Runs.files import write_atomically

# Fields that say how to run, not what is measured: they may change between a run and its resumption. One list for
# every study (a study without one of them has nothing to ignore). Everything else is identity, including
# ``evaluation_batch_size`` and ``num_threads``, which the numbers depend on by round-off.
EXECUTION_FIELDS = ("num_trials", "backend", "ray_address", "num_cpus_per_trial", "num_gpus_per_trial", "progress",
                    "verbose", "tensorboard_dir")


def check_int(name: str, value, minimum: int) -> None:
    """A ValueError unless ``value`` is an integer (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")


def check_optional_int(name: str, value, minimum: int) -> None:
    """As ``check_int``, but None is allowed (meaning "all")."""
    if value is not None:
        check_int(name, value, minimum)


def check_number(name: str, value, minimum: float) -> None:
    """A ValueError unless ``value`` is a finite number (int or float, not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value < float("inf"):
        raise ValueError(f"{name} must be a number >= {minimum}; got {value!r}.")


def as_list(name: str, value, scalars: tuple[type, ...] = (str,)) -> list:
    """``value`` as a list: a single scalar of the given types becomes a one-element list."""
    if isinstance(value, scalars):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list; got {value!r}.")
    return list(value)


def check_choices(name: str, values: list, valid) -> None:
    """A ValueError if ``values`` is empty or holds a value not in ``valid``, listing the valid ones."""
    if not values:
        raise ValueError(f"{name} is empty; choose from {list(valid)}.")
    bad = [v for v in values if v not in valid]
    if bad:
        raise ValueError(f"Unknown {name} {bad}; valid: {list(valid)}.")


def check_results_csv(value) -> None:
    if not str(value).endswith(".csv"):
        raise ValueError(f"results_csv must be a path ending in .csv; got {value!r}.")


class ConfigRecord:
    """Mixin for a flat configuration dataclass: JSON round trip and the fields that differ from another.

    ``EXECUTION_FIELDS`` names the fields that say how to run, not what is measured; they may differ on resume.
    ``RECORDED_ONLY`` names what is recorded but is not part of the experiment's identity either: where the files
    are (``results_csv``: a moved folder, or ``./x.csv`` for ``x.csv``, is the same run) and where the data were
    read from (the task option ``data_dir``); ``FIELD.KEY`` names a key of a dict field.
    """

    EXECUTION_FIELDS: tuple[str, ...] = EXECUTION_FIELDS
    RECORDED_ONLY: tuple[str, ...] = ("results_csv", "task_options.data_dir")
    # Fields renamed since configurations were first saved: old name -> new name. A saved configuration (or a dict)
    # with the old name is read under the new one; a notebook given the old name is refused (``from_namespace``).
    RENAMED: dict[str, str] = {}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        write_atomically(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def from_dict(cls, values: dict):
        values = dict(values)
        for old, new in cls.RENAMED.items():
            if old in values:
                if new in values:
                    raise ValueError(f"{old} was renamed {new}, and both are given ({old}={values[old]!r}, "
                                     f"{new}={values[new]!r}); give {new} only.")
                values[new] = values.pop(old)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"Unknown configuration field(s) {unknown}; valid: {sorted(names)}.")
        return cls(**values)

    @classmethod
    def from_namespace(cls, namespace: dict):
        """The configuration of every field's value in ``namespace`` (a notebook's ``globals()``, where each field is
        a parameter); a ValueError naming a parameter given under a name it no longer has (papermill would otherwise
        set an unused variable and the run would silently use the default)."""
        renamed = {old: new for old, new in cls.RENAMED.items() if old in namespace}
        if renamed:
            raise ValueError(f"{cls.__name__} has no parameter "
                             f"{', '.join(f'{old} (now {new})' for old, new in renamed.items())}; pass the new name, "
                             f"e.g. papermill -p {next(iter(renamed.values()))} ...")
        return cls(**{f.name: namespace[f.name] for f in dataclasses.fields(cls)})

    @classmethod
    def load(cls, path: str | Path):
        """The configuration saved in ``path``; a ``ConfigFileError`` naming the file if it cannot be read or is not
        a configuration of this kind (a file cut short, edited by hand, or of another runner)."""
        path = Path(path)
        try:
            values = json.loads(path.read_text())
            if not isinstance(values, dict):
                raise ValueError(f"it holds a {type(values).__name__}, not a JSON object")
            return cls.from_dict(values)
        except (OSError, ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
            raise ConfigFileError(f"{path} is not a readable {cls.__name__} ({type(error).__name__}: {error})."
                                  ) from error

    def differences(self, other) -> dict[str, tuple]:
        """Fields that change what is measured and differ between ``self`` and ``other``: name -> (self, other)."""
        ignored = (*self.EXECUTION_FIELDS, *self.RECORDED_ONLY)
        mine, theirs = _identity(self.to_dict(), ignored), _identity(other.to_dict(), ignored)
        return {name: (mine.get(name), theirs.get(name)) for name in sorted(set(mine) | set(theirs))
                if mine.get(name) != theirs.get(name)}


class ConfigFileError(ValueError):
    """A configuration file that cannot be read."""


def _identity(values: dict, ignored: tuple[str, ...]) -> dict:
    """``values`` as JSON would give them back, without the ``ignored`` fields and ``FIELD.KEY`` dict keys."""
    values = json.loads(json.dumps(values, sort_keys=True))
    for name in ignored:
        field_name, _, key = name.partition(".")
        if not key:
            values.pop(field_name, None)
        elif isinstance(values.get(field_name), dict):
            values[field_name].pop(key, None)
    return values


@dataclasses.dataclass
class RunFields:
    """The fields every study has (``ExperimentConfig``, ``SequentialConfig``, ``BridgeConfig``), one meaning each.

    Attributes:
        task: the task (``Tasks.available_tasks()``; which other kinds a study takes, its configuration says).
        task_options: options passed to ``Tasks.get_task`` (e.g. ``{"labels": [0, 1]}``).
        seed: seed of trial 0; trial k uses ``seed + k`` for everything random in it (the model's initialisation,
            the data order, the measures' seeds, ...).
        num_trials: independent trials; all go to the study's files, keyed by ``trial``.
        epochs: training epochs (per task, in a sequence).
        batch_size: training batch size (None: the task's).
        num_validation_examples: validation examples evaluated (per task; None: all).
        num_importance_examples: training examples given to the measures that need data (None: all).
        evaluation_batch_size: examples per compiled forward pass when evaluating (identity: the losses depend on
            it by round-off).
        num_threads: TensorFlow's intra-op threads, which the numbers depend on by round-off (``Runs/threads.py``).
            None: the count recorded beside the results when resuming, else TensorFlow's default on this machine
            (its CPUs). The count used is recorded, and a resumed run must use it.
        progress: show tqdm progress bars.
    """

    task: str = "digits"
    task_options: dict = dataclasses.field(default_factory=dict)
    seed: int = 0
    num_trials: int = 1
    epochs: int = 3
    batch_size: int | None = None
    num_validation_examples: int | None = None
    num_importance_examples: int | None = 500
    evaluation_batch_size: int = 1024
    num_threads: int | None = None
    progress: bool = True

    def trial_seed(self, trial: int) -> int:
        return self.seed + trial

    def run_values(self) -> dict:
        """This configuration's ``RunFields`` values, by name (to build another study's configuration from)."""
        return values_of(self, RunFields)

    def check_run_fields(self) -> None:
        """A ValueError for a ``RunFields`` value out of range (the task and its options are the study's to check)."""
        self.task_options = dict(self.task_options or {})
        for name in ("seed", "num_trials", "epochs", "evaluation_batch_size"):
            check_int(name, getattr(self, name), minimum=0 if name == "seed" else 1)
        for name in ("batch_size", "num_validation_examples", "num_importance_examples", "num_threads"):
            check_optional_int(name, getattr(self, name), minimum=1)


def values_of(config, group) -> dict:
    """``config``'s values of the fields of the dataclass ``group``, by name."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(group)}


BACKENDS = ("local", "ray")


@dataclasses.dataclass
class ExecutionFields:
    """How a study's trials are run (``Runs.trials``), the same fields in every study; all are execution fields
    (``EXECUTION_FIELDS``), so they may change between a run and its resumption.

    Attributes:
        backend: ``"local"`` (one trial after another in this process) or ``"ray"`` (each trial a Ray task, on this
            machine or a cluster; ``docs/ray.md``).
        ray_address: the Ray cluster to join (``"auto"``, ``"HEAD_IP:6379"``, ``"ray://HEAD_IP:10001"``); None: a
            cluster started on this machine, else a new local Ray.
        num_cpus_per_trial: CPUs one Ray task asks for; with Ray, ``num_threads=None`` means
            ``ceil(num_cpus_per_trial)`` for a new run, so trials sharing a node do not oversubscribe it.
        num_gpus_per_trial: GPUs one Ray task asks for: a fraction up to 1 shares a GPU between trials, above 1 a
            whole number.
    """

    backend: str = "local"
    ray_address: str | None = None
    num_cpus_per_trial: float = 1.0
    num_gpus_per_trial: float = 0.0

    def check_execution(self) -> None:
        """A ValueError for an execution value out of range, naming the valid ones."""
        check_backend(self.backend)
        if self.ray_address is not None and (not isinstance(self.ray_address, str) or not self.ray_address):
            raise ValueError(f"ray_address must be a Ray address (e.g. 'auto', 'HEAD_IP:6379') or None; got "
                             f"{self.ray_address!r}.")
        check_number("num_cpus_per_trial", self.num_cpus_per_trial, minimum=0)
        check_number("num_gpus_per_trial", self.num_gpus_per_trial, minimum=0)
        if self.num_gpus_per_trial > 1 and self.num_gpus_per_trial != int(self.num_gpus_per_trial):
            raise ValueError(f"num_gpus_per_trial above 1 must be a whole number of GPUs (Ray's rule); got "
                             f"{self.num_gpus_per_trial}. Use a fraction up to 1 to share a GPU between trials, or "
                             "1, 2, ... GPUs per trial.")


def check_backend(backend) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"Unknown backend {backend!r}; valid: {list(BACKENDS)}.")
