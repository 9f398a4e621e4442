"""The results-CSV contract the analysis reads, and the keys that group its rows.

A results CSV (written by the experiment runner) has one row per evaluation of a thresholded model, with the
columns of ``RESULT_COLUMNS`` in that order. A *curve* is the set of rows of one trial that share ``CURVE_KEYS``
(one row per threshold); a *group* is the set of curves whose measures are compared with one another
(``GROUP_KEYS``: everything in ``CURVE_KEYS`` but the measure).
"""

from __future__ import annotations

RESULT_COLUMNS = (
    "trial", "seed", "task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order",
    "replacement", "threshold", "fraction_removed", "loss", "accuracy", "val_loss", "val_accuracy", "chance_val_loss",
)
INTEGER_COLUMNS = ("trial", "seed", "epoch")
LABEL_COLUMNS = ("task", "measure", "aggregation_level", "aggregation_method", "scope", "order", "replacement")
FLOAT_COLUMNS = tuple(c for c in RESULT_COLUMNS if c not in INTEGER_COLUMNS and c not in LABEL_COLUMNS)

# Columns added by load_results: the file a row came from and its trial id in that file.
SOURCE_COLUMNS = ("source", "source_trial")

GROUP_KEYS = ("task", "epoch", "aggregation_level", "aggregation_method", "scope", "order", "replacement")
CURVE_KEYS = ("task", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "replacement")
ROW_KEYS = ("trial",) + CURVE_KEYS + ("threshold",)

BASELINE_MEASURE = "random"
SHUFFLED_PREFIX = "shuffled:"
MISSING_LABEL = "none"

# Whether a lower value of a per-curve metric means a better measure, for each thresholding order.
# Removing the least important weights first, a good measure keeps the loss low (small AUC) for long (large
# fraction within tolerance); removing the most important first, it makes the loss rise early (the reverse).
LOWER_IS_BETTER = {
    "normalized_auc": {"least": True, "most": False},
    "auc": {"least": True, "most": False},
    "max_fraction_within_tolerance": {"least": False, "most": True},
}
METRICS = tuple(LOWER_IS_BETTER)


def lower_is_better(metric: str, order: str) -> bool:
    """Whether a smaller ``metric`` means a better measure when thresholding in ``order``."""
    if metric not in LOWER_IS_BETTER:
        raise ValueError(f"Unknown metric {metric!r}; valid metrics are {list(METRICS)}.")
    if order not in LOWER_IS_BETTER[metric]:
        raise ValueError(f"Unknown order {order!r}; valid orders are {list(LOWER_IS_BETTER[metric])}.")
    return LOWER_IS_BETTER[metric][order]
