"""How stable the ranking of measures is: across trials (per group) and across epochs (per setting).

Each rater (a trial, or an epoch with the metric averaged over trials) ranks the measures of a group by a
per-trial metric; agreement is Kendall's W (1 = identical rankings) and the mean Spearman correlation between
raters. The direction of "better" does not matter: reversing every ranking leaves both unchanged. Raters with no
value at all (e.g. epoch 0, where the normalized AUC is undefined) are dropped, then measures missing for any
remaining rater.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from Analysis.columns import GROUP_KEYS, with_optional_columns
from Analysis.statistics import kendalls_w, mean_spearman
from Analysis.summary import DEFAULT_METRIC

STABILITY_ACROSS = ("trial", "epoch")


def ranking_stability(metrics: pd.DataFrame, metric: str = DEFAULT_METRIC, across: str = "trial") -> pd.DataFrame:
    """Agreement of the measures' rankings between trials (``across="trial"``, one row per group) or between
    epochs (``across="epoch"``, one row per group without the epoch, metric averaged over trials first).

    Columns: the grouping keys, ``across``, ``num_raters``, ``num_measures``, ``kendalls_w``, ``mean_spearman``.
    """
    if across not in STABILITY_ACROSS:
        raise ValueError(f"Unknown stability axis {across!r}; valid ones are {list(STABILITY_ACROSS)}.")
    keys = list(GROUP_KEYS) if across == "trial" else [k for k in GROUP_KEYS if k != "epoch"]
    rows = []
    for values, group in with_optional_columns(metrics).groupby(keys, sort=True, dropna=False):
        scores = group.pivot_table(index=across, columns="measure", values=metric, aggfunc="mean", dropna=False)
        scores = scores.dropna(axis=0, how="all").dropna(axis=1, how="any")
        array = scores.to_numpy(dtype=float)
        rows.append({
            **dict(zip(keys, values)),
            "across": across,
            "num_raters": int(array.shape[0]),
            "num_measures": int(array.shape[1]),
            "kendalls_w": kendalls_w(array) if array.size else np.nan,
            "mean_spearman": mean_spearman(array) if array.size else np.nan,
        })
    return pd.DataFrame(rows, columns=[*keys, "across", "num_raters", "num_measures", "kendalls_w", "mean_spearman"])
