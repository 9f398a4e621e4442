"""Reading saved importances (``ExperimentConfig(save_importances=True)``) with NumPy alone, for the atlas.

A run with ``results_csv="results/foo.csv"`` keeps ``results/foo_importances/trial_k/epoch_e/MEASURE.npz``: one
``np.savez_compressed`` file per measure, trial and measured epoch, in the format ``WeightImportance.saved``
writes. Its arrays are read with ``np.load(allow_pickle=False)`` (no code runs on loading), and its JSON keys
directly, so the analysis never imports the training code:

- one float64 array per trainable tensor, keyed by the variable's path (``"digits/conv2d/kernel"``);
- ``__paths__`` (the paths in ``model.trainable_weights`` order), ``__measure__``, ``__options__`` and
  ``__metadata__`` (trial, epoch, task, seed), ``__format__``;
- since format 2, ``__model__``: per tensor its owning layer's name, class and Keras class, the tensor's kind
  (``kernel``, ``bias``, ``gamma``, ...) and the layer's number, and the model's input shape; and
  ``__first_kernel__``, the first layer's kernel (float32) when that layer is a convolution.

Files of format 1 lack the model description: their tensors are described from their paths alone (the layer is
the path without its last part, the kind its last part, no class), which is what the layer-scope rule needs when
``parameters="all"``; the parts of the atlas that need the rest are skipped with the reason.

Tensors are labelled ``layer/kind`` with Keras' automatic layer names numbered within each model
(``_renumbered``), so that trials built one after another in one process (``conv2d``, then ``conv2d_2``) label
the same tensor alike and their tables can be averaged.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from Analysis import paths
from Analysis.loading import load_config
from Schema import BASELINE_MEASURE, KEY_DIGITS

# The fractions of a run whose configuration and results cannot be read.
DEFAULT_FRACTIONS = tuple(round(i / 10, KEY_DIGITS) for i in range(11))


@dataclass(frozen=True)
class TensorInfo:
    """One trainable tensor: its path and shape, its owning layer (name, class, the Keras class it is or derives
    from: None in files of format 1), its kind and the layer's number in order of first appearance."""

    path: str
    shape: tuple
    layer: str
    layer_class: str | None
    keras_class: str | None
    kind: str
    layer_index: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def label(self) -> str:
        """``conv2d/kernel``: the layer (its automatic name numbered within the model, ``_renumbered``) and the
        kind, the same in every trial of one architecture."""
        return f"{self.layer}/{self.kind}"


@dataclass
class ImportanceSet:
    """One file: one measure's importances of one trial at one measured epoch."""

    file: Path
    measure: str
    trial: int
    epoch: int
    seed: int | None
    format: int
    arrays: list[np.ndarray] = field(repr=False)
    tensors: list[TensorInfo] = field(repr=False)
    input_shape: tuple | None = None
    first_kernel: np.ndarray | None = field(default=None, repr=False)

    @property
    def described(self) -> bool:
        """Whether the file describes its model (format 2 and later)."""
        return self.tensors[0].keras_class is not None if self.tensors else False


@dataclass
class ImportanceRun:
    """Every saved importance of one run (one ``_importances`` folder), with its configuration."""

    folder: Path
    name: str
    task: str
    config: dict | None
    fractions: tuple[float, ...]
    fractions_source: str
    sets: list[ImportanceSet] = field(repr=False)

    @property
    def parameters(self) -> str:
        return str((self.config or {}).get("parameters", "all"))

    @property
    def orders(self) -> list[str]:
        return list((self.config or {}).get("orders", ["least"]))

    def epochs(self) -> list[int]:
        return sorted({s.epoch for s in self.sets})

    def trials(self) -> list[int]:
        return sorted({s.trial for s in self.sets})

    def measures(self) -> list[str]:
        return sorted({s.measure for s in self.sets})

    def at(self, trial: int, epoch: int) -> dict[str, ImportanceSet]:
        """The sets of one trial and epoch, by measure."""
        return {s.measure: s for s in self.sets if s.trial == trial and s.epoch == epoch}


def importances_folder(csv_path) -> Path:
    """Where a run keeps its importances: ``results/foo.csv`` -> ``results/foo_importances``."""
    return paths.importances_folder(csv_path)


def find_importance_folders(csv_paths) -> list[Path]:
    """The ``_importances`` folders that exist beside ``csv_paths`` (those with at least one ``.npz`` file)."""
    found = []
    for csv_path in [csv_paths] if isinstance(csv_paths, (str, Path)) else csv_paths:
        folder = importances_folder(csv_path)
        if folder.is_dir() and any(folder.glob("trial_*/epoch_*/*.npz")):
            found.append(folder)
    return found


def read_importance_file(path) -> ImportanceSet:
    """One saved ``.npz`` file (module docstring); trial and epoch from its folders ``trial_k/epoch_e``, else its
    metadata."""
    path = Path(path)
    with np.load(path, allow_pickle=False) as file:
        if "__paths__" not in file.files:
            raise ValueError(f"{path} is not a file written by WeightImportance.save_importances (no __paths__).")
        keys = json.loads(str(file["__paths__"]))
        arrays = [np.asarray(file[key], dtype=np.float64) for key in keys]
        metadata = json.loads(str(file["__metadata__"])) if "__metadata__" in file.files else {}
        model = json.loads(str(file["__model__"])) if "__model__" in file.files else None
        measure = str(file["__measure__"])
        version = int(file["__format__"]) if "__format__" in file.files else 1
        first_kernel = np.asarray(file["__first_kernel__"]) if "__first_kernel__" in file.files else None
    trial = _folder_number(path.parent.parent.name, "trial", metadata.get("trial"), path)
    epoch = _folder_number(path.parent.name, "epoch", metadata.get("epoch"), path)
    if model is not None:
        tensors = [TensorInfo(key, array.shape, t["layer"], t["class"], t["keras_class"], t["kind"],
                              int(t["layer_index"])) for key, array, t in zip(keys, arrays, model["tensors"])]
        tensors = _renumbered(tensors)
        shape = model.get("input_shape")
        input_shape = tuple(shape) if shape is not None else None
    else:
        tensors, input_shape = _tensors_from_paths(keys, arrays), None
    seed = metadata.get("seed")
    return ImportanceSet(path, measure, trial, epoch, None if seed is None else int(seed), version, arrays, tensors,
                         input_shape, first_kernel)


def load_importances_folder(folder, measures=None, epochs=None) -> ImportanceRun:
    """Every file under ``folder`` (``trial_k/epoch_e/MEASURE.npz``), keeping only ``measures`` and ``epochs``
    when given (``random`` is always kept), with the run's configuration and fractions (``run_fractions``).

    Raises ``FileNotFoundError`` for a missing folder or one without files, and ``ValueError`` when the files of
    one trial and epoch describe different tensors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"Importances folder {folder} does not exist (a run with save_importances=True "
                                "writes results/foo_importances beside results/foo.csv).")
    files = sorted(folder.glob("trial_*/epoch_*/*.npz"))
    if not files:
        raise FileNotFoundError(f"{folder} holds no trial_k/epoch_e/MEASURE.npz files.")
    sets = [read_importance_file(f) for f in files]
    if measures:
        sets = [s for s in sets if s.measure in set(measures) | {BASELINE_MEASURE}]
    if epochs:
        sets = [s for s in sets if s.epoch in set(epochs)]
    if not sets:
        raise ValueError(f"No saved importances in {folder} match measures {measures} and epochs {epochs}.")
    for trial, epoch in {(s.trial, s.epoch) for s in sets}:
        group = [s for s in sets if s.trial == trial and s.epoch == epoch]
        layouts = {tuple((t.path, t.shape) for t in s.tensors) for s in group}
        if len(layouts) > 1:
            raise ValueError(f"The files of trial {trial}, epoch {epoch} in {folder} hold different tensors: "
                             f"{[s.file.name for s in group]}; they must come from one model.")
    csv_path = paths.results_csv_of(folder)
    config = load_config(csv_path)
    fractions, source = run_fractions(config, csv_path)
    task = str((config or {}).get("task") or _metadata_task(files[0]) or csv_path.stem)
    return ImportanceRun(folder, csv_path.stem, task, config, fractions, source, sets)


def run_fractions(config: dict | None, csv_path) -> tuple[tuple[float, ...], str]:
    """The fractions the run removed, and where they come from: the configuration's explicit ``thresholds``, its
    ``linear`` grid (``i / (num_thresholds - 1)``), or for other spacings the thresholds its results CSV records
    at level ``weight`` (their union across curves, for an adaptive grid); ``DEFAULT_FRACTIONS`` when neither can
    be read."""
    config = config or {}
    if config.get("thresholds"):
        return tuple(sorted({round(float(t), KEY_DIGITS) for t in config["thresholds"]})), "configuration"
    spacing, count = config.get("threshold_spacing", "linear"), config.get("num_thresholds")
    if spacing == "linear" and isinstance(count, int) and count >= 2:
        return tuple(round(i / (count - 1), KEY_DIGITS) for i in range(count)), "configuration"
    csv_path = Path(csv_path)
    if csv_path.is_file():
        rows = pd.read_csv(csv_path, usecols=["aggregation_level", "threshold"])
        values = rows.loc[rows["aggregation_level"] == "weight", "threshold"]
        values = values if not values.empty else rows["threshold"]
        if not values.empty:
            return tuple(sorted({round(float(t), KEY_DIGITS) for t in values})), "results"
    return DEFAULT_FRACTIONS, "default"


def _renumbered(tensors: list[TensorInfo]) -> list[TensorInfo]:
    """``tensors`` with Keras' automatic layer names numbered within the model, as a fresh process numbers them.

    Keras numbers automatic names per process (the first Conv2D of a second model built in one process is
    ``conv2d_2``), so trials run one after another name the same layer differently. A name that is automatic (its
    class in snake case, optionally with ``_N``) becomes ``base``, ``base_1``, ... in order of the layers; other
    names are kept. If that would give two layers one name, every name is kept."""
    names: dict[int, str] = {}
    counts: dict[str, int] = {}
    for tensor in sorted(tensors, key=lambda t: t.layer_index):
        if tensor.layer_index in names:
            continue
        base = _snake_case(tensor.layer_class) if tensor.layer_class else re.sub(r"_\d+$", "", tensor.layer)
        if re.fullmatch(rf"{re.escape(base)}(_\d+)?", tensor.layer):
            count = counts.get(base, 0)
            counts[base] = count + 1
            names[tensor.layer_index] = base if count == 0 else f"{base}_{count}"
        else:
            names[tensor.layer_index] = tensor.layer
    layers = {t.layer_index: t.layer for t in tensors}
    if len(set(names.values())) != len(layers):
        return tensors
    return [replace(t, layer=names[t.layer_index]) for t in tensors]


def _snake_case(name: str) -> str:
    """Keras' automatic layer name of a class: ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _tensors_from_paths(keys: list[str], arrays: list[np.ndarray]) -> list[TensorInfo]:
    """Tensors of a format-1 file: the layer is the path without its model name and last part."""
    numbers: dict[str, int] = {}
    tensors = []
    for key, array in zip(keys, arrays):
        parts = key.split("/")
        layer = "/".join(parts[1:-1]) if len(parts) > 2 else "/".join(parts[:-1]) or key
        tensors.append(TensorInfo(key, array.shape, layer, None, None, parts[-1],
                                  numbers.setdefault(layer, len(numbers))))
    return _renumbered(tensors)


def _folder_number(name: str, prefix: str, fallback, path: Path) -> int:
    match = re.fullmatch(rf"{prefix}_(\d+)", name)
    if match:
        return int(match.group(1))
    if fallback is None:
        raise ValueError(f"{path} is neither in a {prefix}_N folder nor records its {prefix}.")
    return int(fallback)


def _metadata_task(path: Path) -> str | None:
    with np.load(path, allow_pickle=False) as file:
        return json.loads(str(file["__metadata__"])).get("task") if "__metadata__" in file.files else None
