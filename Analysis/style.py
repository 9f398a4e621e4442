"""One look for every figure of the analysis: colours, line styles, human labels, and the two helpers every
figure uses (``new_figure``, ``save_figure``).

- **Colours.** Each measure has one colour wherever it is drawn, fixed by its name alone (not by which other
  measures a figure holds): the measures of the registry have a place in a fixed palette, any other name a colour
  chosen by a hash of the name. ``random`` is black and dashed; a control ``shuffled:X`` takes X's colour, dotted,
  with open markers; the sequential baseline ``none`` (no penalty) is grey.
- **Markers** at the measured points of every curve; a grey dash-dotted line at the chance level.
- **Labels** spell identifiers out: ``sign_flips`` -> "sign flips", order ``least`` -> "least important removed
  first", parameters ``kernels`` -> "kernels only".

Figures are ``matplotlib.figure.Figure`` objects rendered by the Agg canvas, so no pyplot state or interactive
backend is involved; a notebook shows a returned figure as it is.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from Schema import BASELINE_MEASURE, CONTROL_PREFIX, NO_AGGREGATION, NO_PENALTY

DPI = 150
FORMATS = ("png", "pdf", "svg")
CHANCE_STYLE = {"color": "0.45", "linestyle": "-.", "linewidth": 1.0, "zorder": 2}

# The registry's measures, most used first: the first nine take tab10's strong colours (grey left out), the rest
# the light ones of tab20. A new measure gets a colour from its name (``measure_colour``).
_TAB10 = [colormaps["tab10"](i) for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)]
_TAB20_LIGHT = [colormaps["tab20"](i) for i in (1, 3, 5, 7, 9, 11, 13, 17, 19)]
KNOWN_MEASURES = ("magnitude", "fisher", "sign_flips", "weight_change", "mas", "si", "snip", "taylor",
                  "gradient_magnitude", "momentum_changes", "inverse_magnitude", "obd", "grasp", "synflow", "lamp",
                  "movement", "magnitude_increase", "oracle")
MEASURE_COLOURS = dict(zip(KNOWN_MEASURES, _TAB10 + _TAB20_LIGHT))

MEASURE_NAMES = {"fisher": "Fisher", "mas": "MAS", "si": "SI", "snip": "SNIP", "obd": "OBD", "grasp": "GraSP",
                 "synflow": "SynFlow", "lamp": "LAMP", "taylor": "Taylor"}
ORDER_LABELS = {"least": "least important removed first", "most": "most important removed first"}
SCOPE_LABELS = {"layer": "ranked per layer", "model": "ranked across the model", "tensor": "ranked per tensor"}
PARAMETER_LABELS = {"all": "all parameters", "kernels": "kernels only", "no_normalization": "all but normalization"}
LEVEL_LABELS = {"weight": "weights", "unit": "units", "filter": "filters", "layer": "layers"}
REPLACEMENT_LABELS = {"noise": "replaced by noise", "zero": "set to zero"}
VALUE_LABELS = {"val_loss": "validation loss", "loss": "training loss", "val_accuracy": "validation accuracy",
                "accuracy": "training accuracy"}


def measure_label(measure: str) -> str:
    """``sign_flips`` -> "sign flips", ``fisher`` -> "Fisher", ``shuffled:magnitude`` -> "magnitude, shuffled"."""
    if measure.startswith(CONTROL_PREFIX):
        return f"{measure_label(measure[len(CONTROL_PREFIX):])}, shuffled"
    return MEASURE_NAMES.get(measure, measure.replace("_", " "))


def aggregation_label(level: str, method: str) -> str:
    """``("unit", "mean")`` -> "units (mean)", ``("weight", "none")`` -> "weights"."""
    level_text = LEVEL_LABELS.get(level, level)
    return level_text if method == NO_AGGREGATION else f"{level_text} ({method})"


def key_label(key: str, value) -> str:
    """The human label of one value of a grouping column."""
    tables = {"order": ORDER_LABELS, "scope": SCOPE_LABELS, "parameters": PARAMETER_LABELS,
              "replacement": REPLACEMENT_LABELS}
    if key == "measure":
        return measure_label(str(value))
    if key == "epoch":
        return f"epoch {value}"
    if key == "task":
        return str(value)
    if key == "aggregation_level":
        return LEVEL_LABELS.get(str(value), str(value))
    if key == "aggregation_method":
        return f"{value} of a group" if value != NO_AGGREGATION else ""
    return tables.get(key, {}).get(str(value), str(value).replace("_", " "))


def describe(context: dict) -> str:
    """``key_label`` of each item of ``context`` in its order, an aggregation level and method as one."""
    parts = []
    for key, value in context.items():
        if key == "aggregation_level":
            parts.append(aggregation_label(value, context.get("aggregation_method", NO_AGGREGATION)))
        elif key != "aggregation_method" or "aggregation_level" not in context:
            parts.append(key_label(key, value))
    return ", ".join(part for part in parts if part)


def measure_colour(measure: str):
    """The colour of ``measure`` (of X for ``shuffled:X``) in every figure (module docstring)."""
    if measure.startswith(CONTROL_PREFIX):
        measure = measure[len(CONTROL_PREFIX):]
    if measure == BASELINE_MEASURE:
        return "black"
    if measure == NO_PENALTY:
        return "0.45"
    if measure in MEASURE_COLOURS:
        return MEASURE_COLOURS[measure]
    palette = _TAB10 + _TAB20_LIGHT
    return palette[zlib.crc32(measure.encode()) % len(palette)]


def measure_style(measure: str) -> dict:
    """``Axes.plot`` keywords of ``measure``'s line: colour, line style, markers at the measured points."""
    style = {"color": measure_colour(measure), "linestyle": "-", "linewidth": 1.5, "marker": "o", "markersize": 3.5,
             "zorder": 4}
    if measure == BASELINE_MEASURE:
        style.update(linestyle="--", linewidth=1.8, marker="s", markersize=3.2, zorder=5)
    elif measure.startswith(CONTROL_PREFIX):
        style.update(linestyle=":", markerfacecolor="white", zorder=3)
    return style


def measure_sort_key(measure: str) -> tuple:
    """Measures in a legend: by name, each control after its measure, ``random`` last."""
    base = measure[len(CONTROL_PREFIX):] if measure.startswith(CONTROL_PREFIX) else measure
    return (measure == BASELINE_MEASURE, base, measure.startswith(CONTROL_PREFIX))


def new_figure(rows: int, columns: int, width: float, height: float, margin: tuple[float, float] = (1.8, 0.6),
               **options):
    """A figure of ``rows x columns`` panels of ``width x height`` inches each, plus ``margin`` (inches across,
    down) for the legend and titles, with constrained layout; returns it and its 2-D array of axes."""
    figure = Figure(figsize=(width * columns + margin[0], height * rows + margin[1]), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False, **options)
    return figure, axes


def check_formats(formats) -> tuple[str, ...]:
    """``formats`` (a list, or one comma-separated string such as ``"png,pdf"``) as a tuple of known formats."""
    if isinstance(formats, str):
        formats = formats.split(",")
    formats = tuple(dict.fromkeys(f.strip().lower().lstrip(".") for f in formats if f.strip()))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"Unknown figure formats {unknown or list(formats)}; valid formats are {list(FORMATS)}, "
                         "e.g. 'png,pdf'.")
    return formats


def save_figure(figure: Figure, path, formats=("png",), dpi: float = DPI) -> list[Path]:
    """Render ``figure`` with the Agg canvas into ``path`` once per format (``path`` with each suffix; its folder
    made if needed; ``dpi`` for the raster format, vector formats keep their text and lines); returns the files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure)
    written = []
    for suffix in check_formats(formats):
        target = path.with_suffix(f".{suffix}")
        figure.savefig(target, dpi=dpi, metadata=_metadata(suffix))
        written.append(target)
    return written


def _metadata(suffix: str) -> dict | None:
    # No creation date in vector files, so the same figure gives the same file.
    return {"CreationDate": None} if suffix == "pdf" else ({"Date": None} if suffix == "svg" else None)
