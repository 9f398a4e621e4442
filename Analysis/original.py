"""Results written by the original toolkit (the ``Neural-Network-Weight-Importance-Measures`` codebase this one
descends from), read into this toolkit's schema (``Schema.THRESHOLDING_COLUMNS``).

The original wrote two layouts, recognised here by their columns (names compared without regard to case, since
its aggregation notebook title-cased ``EWC Method`` to ``Ewc Method``; the leading unnamed index column that
``DataFrame.to_csv`` wrote is dropped):

- **per trial** (``PER_TRIAL_COLUMNS``): one file per trial, ``validation_loss_over_threshold_TRIAL_<k>.csv``, one
  row per (epoch, measure, level, threshold). The trial is the ``<k>`` of the file name (a file whose name holds
  no ``TRIAL_<k>`` is one trial, numbered 0).
- **aggregated** (``AGGREGATED_COLUMNS``): ``AggregatedData.csv``, the mean over trials of each loss and an
  ``Err`` column (the standard deviation divided by the number of trials, not by its square root). It holds no
  trials, so it is read as one trial of means: curves and means are drawn, no interval, test or agreement across
  trials is possible (``aggregated_note``), and the ``Err`` columns are not used.

What the original's code fixes, and so every row gets: scope ``layer`` (its ``LAYER_WISE`` comparison, ranking
the importances of all of a layer's trainable tensors together), order ``least`` (it replaced the weights whose
importance lies below the cut), replacement ``noise`` (Normal(0, (std(W) / 10)^2), this toolkit's ``noise``),
parameters ``all`` (every trainable tensor, BatchNormalization's γ and β included), aggregation method ``mean``
(its ``MEAN_AVERAGE``; ``none`` at weight level). The epoch is its ``Epoch`` as written: the script added the
measuring period before training that many epochs and then measured, so ``Epoch`` counts the epochs finished,
this toolkit's meaning. ``threshold`` and ``fraction_removed`` are both its ``Threshold Value``: the *nominal*
fraction. It replaced, per layer, the weights whose importance is strictly below the one at sorted position
``floor(t * n)`` (at most ``n - 1``): exactly ``floor(t * n)`` weights when the importances are distinct, fewer when
they tie (integer counts such as sign flips; shared group scores at unit and filter level), and at ``t = 1`` all
but the most important weight and its ties. It recorded no accuracy (NaN here), no seed (``-1``), no task name
(``ORIGINAL_TASK``) and no chance level: ``chance_val_loss`` is the ``chance_loss`` option, by default
``ln 10``, the cross-entropy of a uniform prediction over ten classes.

Its level names differ in meaning too: its ``UNIT`` averaged the last axis of each tensor (a Dense input's
outgoing weights, a whole bias vector as one value) and its ``CONV_FILTER`` one kernel position across all
filters; they map to this toolkit's ``unit`` and ``filter``, the closest names (see ``Aggregation``).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from Schema import ALL_PARAMETERS, NO_AGGREGATION, THRESHOLDING_COLUMNS

# Its ``EWC_Method`` names, as its script wrote them (``ewc_method.name``), to this toolkit's registry names.
MEASURES = {
    "FISHER_MATRIX": "fisher",
    "SIGN_FLIPPING": "sign_flips",
    "MOMENTUM_BASED": "momentum_changes",
    "WEIGHT_CHANGE": "weight_change",
    "WEIGHT_MAGNITUDE": "magnitude",
    "INVERSE_WEIGHT_MAGNITUDE": "inverse_magnitude",
    "RANDOM": "random",
}
# Its other ``EWC_Method`` names, which score every weight alike: its thresholding (``importance < cut``) removes
# nothing at any threshold, and this toolkit has no such measure.
CONSTANT_MEASURES = {"NONE": "Ω = 0", "WEIGHT_DECAY": "Ω = 1"}
# Its ``AggregationLevel`` names to (aggregation_level, aggregation_method).
LEVELS = {"NO_AGGREGATION": ("weight", NO_AGGREGATION), "UNIT": ("unit", "mean"), "CONV_FILTER": ("filter", "mean")}

PER_TRIAL_COLUMNS = ("Epoch", "EWC Method", "Aggregation Level", "Threshold Value", "Loss", "Validation Loss")
AGGREGATED_COLUMNS = ("Epoch", "EWC Method", "Aggregation Level", "Threshold Value", "Loss Mean", "Loss Err",
                      "Validation Loss Mean", "Validation Loss Err")
LAYOUTS = {"per_trial": PER_TRIAL_COLUMNS, "aggregated": AGGREGATED_COLUMNS}
# The columns by which a file is taken to be the original's at all (and then must hold one layout in full).
MARKER_COLUMNS = ("EWC Method", "Threshold Value")
# What its files lack, and every row of them gets.
FIXED = {"seed": -1, "scope": "layer", "order": "least", "parameters": ALL_PARAMETERS, "replacement": "noise"}
ORIGINAL_TASK = "original"
DEFAULT_CHANCE_LOSS = math.log(10)
TRIAL_IN_NAME = re.compile(r"TRIAL_(\d+)", re.IGNORECASE)


def columns_layout(columns, path=None) -> str | None:
    """``"per_trial"`` or ``"aggregated"`` when ``columns`` hold one of the original's layouts in full (any case),
    None when they hold neither marker column; a ``ValueError`` naming what is missing when they hold the markers
    but neither layout (for example its earliest files, written before ``Aggregation Level`` existed)."""
    present = {str(column).strip().lower() for column in columns}
    if not all(marker.lower() in present for marker in MARKER_COLUMNS):
        return None
    for name, expected in LAYOUTS.items():
        if all(column.lower() in present for column in expected):
            return name
    missing = {name: [c for c in expected if c.lower() not in present] for name, expected in LAYOUTS.items()}
    raise ValueError(
        f"{'The results file ' + str(path) if path is not None else 'A results file'} has the columns "
        f"{list(columns)}, which look like the original toolkit's results (they hold {list(MARKER_COLUMNS)}) "
        f"but hold neither of its layouts: the per-trial layout lacks {missing['per_trial']}, the aggregated one "
        f"{missing['aggregated']}. If it thresholded single weights (its files from before aggregation levels "
        "existed), add a column 'Aggregation Level' of NO_AGGREGATION to read it."
    )


def file_layout(path) -> str | None:
    """``columns_layout`` of the header of the CSV at ``path``; None when it cannot be read or is in neither
    layout."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return columns_layout(next(csv.reader(handle), []))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def trial_from_name(path) -> int:
    """The ``<k>`` of ``..._TRIAL_<k>.csv`` (the last one in the name), or 0 when the name holds none."""
    found = TRIAL_IN_NAME.findall(Path(path).stem)
    return int(found[-1]) if found else 0


def check_chance_loss(chance_loss) -> float:
    """``chance_loss`` as a float, ``DEFAULT_CHANCE_LOSS`` for None; a ``ValueError`` unless positive and finite."""
    if chance_loss is None:
        return DEFAULT_CHANCE_LOSS
    try:
        value = float(chance_loss)
    except (TypeError, ValueError):
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"chance_loss must be a positive finite loss (ln 10 = {DEFAULT_CHANCE_LOSS:.4f} for ten "
                         f"classes, ln K for K), got {chance_loss!r}.")
    return value


def from_original(frame: pd.DataFrame, path, chance_loss: float | None = None) -> pd.DataFrame:
    """``frame`` (read from ``path``) in this toolkit's schema if it is in one of the original's layouts (module
    docstring), else ``frame`` itself. ``chance_loss``: the ``chance_val_loss`` of every row (None: ln 10).
    Raises ``ValueError`` for a measure or level name it does not know, listing the known ones."""
    layout = columns_layout(frame.columns, path)
    if layout is None:
        return frame
    chance_loss = check_chance_loss(chance_loss)
    frame = frame.rename(columns={c: c.strip().lower() for c in frame.columns if isinstance(c, str)})
    suffix = " mean" if layout == "aggregated" else ""
    measure = _mapped(frame["ewc method"], MEASURES, "measure", path)
    levels = _mapped(frame["aggregation level"], LEVELS, "aggregation level", path)
    threshold = frame["threshold value"]
    converted = pd.DataFrame({
        "trial": trial_from_name(path) if layout == "per_trial" else 0,
        "seed": FIXED["seed"],
        "task": ORIGINAL_TASK,
        "epoch": frame["epoch"],
        "measure": measure,
        "aggregation_level": [level for level, _ in levels],
        "aggregation_method": [method for _, method in levels],
        "scope": FIXED["scope"],
        "order": FIXED["order"],
        "parameters": FIXED["parameters"],
        "replacement": FIXED["replacement"],
        "threshold": threshold,
        "fraction_removed": threshold,
        "loss": frame["loss" + suffix],
        "accuracy": np.nan,
        "val_loss": frame["validation loss" + suffix],
        "val_accuracy": np.nan,
        "chance_val_loss": chance_loss,
        "num_val_examples_used": np.nan,
    }, index=frame.index)
    return converted[list(THRESHOLDING_COLUMNS)].reset_index(drop=True)


def _mapped(values: pd.Series, mapping: dict, what: str, path) -> list:
    names = values.astype(str).str.strip()
    unknown = sorted(set(names) - set(mapping))
    if unknown:
        constant = [name for name in unknown if name in CONSTANT_MEASURES] if what == "measure" else []
        why = (f" ({', '.join(f'{n}: {CONSTANT_MEASURES[n]}' for n in constant)} for every weight: the original's "
               "thresholding removed nothing at any threshold for it, and this toolkit has no such measure)"
               if constant else "")
        raise ValueError(
            f"The original-layout results file {path} holds the {what} names {unknown}{why}; the known "
            f"{what} names are {list(mapping)} (read as {[_shown(v) for v in mapping.values()]})."
        )
    return [mapping[name] for name in names]


def _shown(value) -> str:
    return "/".join(value) if isinstance(value, tuple) else value


def describe_mapping() -> list[str]:
    """One line per original name and the name it is read as (for the report and the documentation)."""
    return ([f"`{name}` → `{value}`" for name, value in MEASURES.items()]
            + [f"`{name}` → `{level}` (method `{method}`)" for name, (level, method) in LEVELS.items()])


def check_combination(paths) -> None:
    """A ``ValueError`` when an aggregated file (means over trials) is given with other results: its means would
    count as one more trial beside the trials they average."""
    layouts = [file_layout(path) for path in paths]
    if "aggregated" in layouts and len(layouts) > 1:
        aggregated = [str(path) for path, layout in zip(paths, layouts) if layout == "aggregated"]
        raise ValueError(
            f"{aggregated} holds the original toolkit's means over trials; given with other results files its "
            "means would count as one more trial. Analyse it alone, or the per-trial files "
            "(validation_loss_over_threshold_TRIAL_*.csv) without it."
        )


def source_layouts(results: pd.DataFrame) -> dict[str, str]:
    """The ``source`` files of ``results`` that are in one of the original's layouts, with their layout."""
    if "source" not in results.columns:
        return {}
    layouts = {str(source): file_layout(source) for source in pd.unique(results["source"])}
    return {source: layout for source, layout in layouts.items() if layout is not None}


def aggregated_note(sources) -> str | None:
    """The sentence that says why the original's aggregated layout gives no per-trial statistics, naming those of
    ``sources`` (paths) that are in it; None when none is."""
    aggregated = [str(source) for source in sources if file_layout(source) == "aggregated"]
    if not aggregated:
        return None
    names = ", ".join(f"`{Path(source).name}`" for source in aggregated)
    return (f"{names} holds the original toolkit's means over trials, not its trials: no confidence intervals, "
            "paired tests or agreement across trials can be computed from it, so those parts are skipped (its "
            "`Err` columns, the standard deviation divided by the number of trials, are not used). Give the "
            "per-trial files `validation_loss_over_threshold_TRIAL_*.csv` for them.")


def report_lines(results: pd.DataFrame) -> list[str]:
    """The report's paragraph on results read from the original's layouts (empty when there are none): what was
    mapped to what, the chance level used, and what the nominal threshold means."""
    layouts = source_layouts(results)
    if not layouts:
        return []
    chance = results.loc[results["source"].astype(str).isin(layouts), "chance_val_loss"].unique()
    chance_text = ", ".join(f"{value:.4f}" for value in sorted(chance))
    counts = {name: sum(1 for layout in layouts.values() if layout == name) for name in LAYOUTS}
    read = " and ".join(f"{count} in its {name.replace('_', '-')} layout" for name, count in counts.items() if count)
    default = (" (the option `chance_loss`, `--chance-loss`; by default ln 10, the loss of a uniform prediction "
               "over ten classes)")
    return [
        "## Results in the original toolkit's layout",
        "",
        f"{len(layouts)} files were read from the original toolkit's layout ({read}), which records neither a "
        f"chance level, accuracy, seed nor task. Names read as: {', '.join(describe_mapping())}; every row has "
        "scope `layer`, order `least`, replacement `noise`, parameters `all`, task "
        f"`{ORIGINAL_TASK}`, the trial from the file name. The chance level Lc is {chance_text}{default}. "
        "`fraction_removed` is the original's nominal threshold: it replaced the weights strictly below the "
        "importance at that rank in each layer, so where importances tie it removed fewer than the threshold says.",
        "",
    ]
