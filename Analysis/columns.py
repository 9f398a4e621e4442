"""The keys that group the rows of the results CSVs, and which direction of a metric is better.

The columns themselves, the baseline measure and the other names the runners write are defined once in ``Schema``
and only imported here. A thresholding *curve* is the set of rows of one trial that share ``CURVE_KEYS`` (one row
per threshold); a *group* is the set of curves whose measures are compared with one another (``GROUP_KEYS``:
everything in ``CURVE_KEYS`` but the measure). ``parameters`` (which trainable tensors were thresholded) is one
of the keys; results written before it existed read as ``all`` (``OPTIONAL_COLUMNS``). A sequential *run* is one
model trained on a whole sequence: the rows of one trial that share ``SEQUENTIAL_RUN_KEYS``.
"""

from __future__ import annotations

import math

from Schema import ALL_PARAMETERS, SEQUENTIAL_COLUMNS, THRESHOLDING_COLUMNS

# The thresholding columns under the name the analysis has always used for them.
RESULT_COLUMNS = THRESHOLDING_COLUMNS

# How each column of either kind of results CSV is read.
INTEGER_COLUMNS = ("trial", "seed", "epoch", "trained_task", "evaluated_task")
LABEL_COLUMNS = ("task", "measure", "aggregation_level", "aggregation_method", "scope", "order", "parameters",
                 "replacement", "sequence")
FLOAT_COLUMNS = tuple(c for c in dict.fromkeys(THRESHOLDING_COLUMNS + SEQUENTIAL_COLUMNS)
                      if c not in INTEGER_COLUMNS and c not in LABEL_COLUMNS)

# Columns added by load_results: the file a row came from and its trial id in that file.
SOURCE_COLUMNS = ("source", "source_trial")

# Columns that results written before they existed lack, with the value that describes those results.
# ``num_val_examples_used``: absent or blank is every validation example (NaN; ``Schema``).
OPTIONAL_COLUMNS = {"parameters": ALL_PARAMETERS, "num_val_examples_used": math.nan}

GROUP_KEYS = ("task", "epoch", "aggregation_level", "aggregation_method", "scope", "order", "parameters",
              "replacement")
CURVE_KEYS = ("task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "parameters",
              "replacement")
# What identifies a row across files (a file holds one task, so Schema's key columns leave the task out).
ROW_KEYS = ("trial",) + CURVE_KEYS + ("threshold",)
SEQUENTIAL_RUN_KEYS = ("task", "sequence", "measure", "lambda")
SEQUENTIAL_ROW_KEYS = ("trial",) + SEQUENTIAL_RUN_KEYS + ("trained_task", "evaluated_task")

# Whether a lower value of a per-curve metric means a better measure, for each thresholding order.
# Removing the least important weights first, a good measure keeps the loss low (small AUC) for long (large
# fraction within tolerance); removing the most important first, it makes the loss rise early (the reverse).
LOWER_IS_BETTER = {
    "normalized_auc": {"least": True, "most": False},
    "auc": {"least": True, "most": False},
    "max_fraction_within_tolerance": {"least": False, "most": True},
}
METRICS = tuple(LOWER_IS_BETTER)
# The range of the metrics that have one, which their confidence intervals respect (``statistics``).
METRIC_BOUNDS = {"max_fraction_within_tolerance": (0.0, 1.0)}


def with_optional_columns(frame):
    """``frame`` with every ``OPTIONAL_COLUMNS`` column it lacks, or holds blanks in, set to its value (a copy if
    anything changes): thresholding results written before ``parameters`` existed thresholded every parameter."""
    missing = [c for c in OPTIONAL_COLUMNS if c not in frame.columns
               or (OPTIONAL_COLUMNS[c] == OPTIONAL_COLUMNS[c] and frame[c].isna().any())]
    if not missing:
        return frame
    frame = frame.copy()
    for column in missing:
        default = OPTIONAL_COLUMNS[column]
        frame[column] = frame[column].fillna(default) if column in frame.columns else default
    return frame


def lower_is_better(metric: str, order: str) -> bool:
    """Whether a smaller ``metric`` means a better measure when thresholding in ``order``."""
    if metric not in LOWER_IS_BETTER:
        raise ValueError(f"Unknown metric {metric!r}; valid metrics are {list(METRICS)}.")
    if order not in LOWER_IS_BETTER[metric]:
        raise ValueError(f"Unknown order {order!r}; valid orders are {list(LOWER_IS_BETTER[metric])}.")
    return LOWER_IS_BETTER[metric][order]
