"""How long the analysis takes to read a large results file through the one reader of whole rows, against pandas
reading the same file directly (which would also read a partial last line as a row).

    python benchmarks/results_reading.py [--num-trials 30] [--repeats 7] [--out FILE.json]

Builds a thresholding CSV of ``--num-trials`` trials (6 measures, 2 aggregation levels, 2 orders, 3 epochs,
51 thresholds: about 3,700 rows per trial, 110,000 for 30) in a temporary folder, then times, interleaved and
summarised by medians: ``pandas`` (``pd.read_csv(path)``), ``read_frame`` (``Schema.reading.read_whole_rows``
then ``pd.read_csv`` of its text: the whole rows as a DataFrame) and ``load_results`` (everything the analysis does
on reading: checks of the columns, typing, keying of trials, the checks of incomplete curves and NaN values).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from Analysis.loading import load_results, read_frame  # noqa: E402
from Schema import THRESHOLDING_COLUMNS  # noqa: E402

MEASURES = ("random", "magnitude", "fisher", "mas", "si", "taylor")
LEVELS = (("weight", "none"), ("unit", "mean"))
ORDERS = ("least", "most")
EPOCHS = (1, 2, 3)
NUM_THRESHOLDS = 51


def write_results(path: Path, num_trials: int, seed: int = 0) -> int:
    """A thresholding CSV of ``num_trials`` trials, formatted as the runners write floats; returns its rows."""
    rng = np.random.default_rng(seed)
    thresholds = np.linspace(0.0, 1.0, NUM_THRESHOLDS)
    index = pd.MultiIndex.from_product([range(num_trials), EPOCHS, MEASURES, LEVELS, ORDERS, thresholds],
                                       names=["trial", "epoch", "measure", "level", "order", "threshold"])
    frame = index.to_frame(index=False)
    size = len(frame)
    frame["aggregation_level"] = [level for level, _ in frame["level"]]
    frame["aggregation_method"] = [method for _, method in frame["level"]]
    loss = 0.3 + 2.0 * frame["threshold"].to_numpy() ** 2 + 0.01 * rng.standard_normal(size)
    frame = frame.assign(seed=frame["trial"], task="digits", scope="layer", parameters="all", replacement="noise",
                         fraction_removed=frame["threshold"] * (1 + 0.001 * rng.standard_normal(size)),
                         loss=loss, accuracy=rng.uniform(size=size), val_loss=loss + 0.01,
                         val_accuracy=rng.uniform(size=size), chance_val_loss=2.302585 + 0.001 * frame["trial"])
    frame[list(THRESHOLDING_COLUMNS)].to_csv(path, index=False, float_format="%.17g")
    return size


def time_once(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-trials", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", default=None)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "results.csv"
        num_rows = write_results(path, arguments.num_trials)
        sides = {"pandas": lambda: pd.read_csv(path), "read_frame": lambda: read_frame(path),
                 "load_results": lambda: load_results(path)}
        times = {name: [] for name in sides}
        for name, function in sides.items():  # warm-up
            function()
        for repeat in range(arguments.repeats):
            names = list(sides) if repeat % 2 == 0 else list(reversed(sides))
            for name in names:
                times[name].append(time_once(sides[name]))
        medians = {name: statistics.median(values) for name, values in times.items()}
        result = {"num_trials": arguments.num_trials, "num_rows": num_rows,
                  "file_megabytes": round(path.stat().st_size / 2**20, 2),
                  "median_seconds": {name: round(value, 4) for name, value in medians.items()},
                  "read_frame_over_pandas": round(medians["read_frame"] / medians["pandas"], 3),
                  "load_results_over_pandas": round(medians["load_results"] / medians["pandas"], 3)}
    print(json.dumps(result, indent=2))
    if arguments.out:
        Path(arguments.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
