"""Hand-made thresholding results shared by the Analysis tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from Analysis.columns import RESULT_COLUMNS


def synthetic_results(exponents=None, num_trials: int = 5, epochs=(1,), aggregations=(("weight", "mean"),),
                      scopes=("layer",), orders=("least", "most"), replacements=("noise",), num_thresholds: int = 11,
                      initial_loss: float = 0.5, chance_loss: float = 2.5, spread: float = 0.05, seed: int = 0,
                      first_trial: int = 0, first_seed: int = 0, task: str = "digits") -> pd.DataFrame:
    """Results whose curves are ``L0 + (Lc - L0) f^p`` (order least) or ``L0 + (Lc - L0) f^(1/p)`` (order most),
    with ``p = exponents[measure]`` scaled per trial by ``1 + spread * N(0, 1)``: a larger ``p`` is a better measure
    in both orders, and ``p = 1`` (random by default) gives a straight line, normalized AUC 0.5."""
    exponents = exponents or {"random": 1.0, "magnitude": 3.0}
    rng = np.random.default_rng(seed)
    fractions = np.linspace(0.0, 1.0, num_thresholds)
    rows = []
    for trial in range(first_trial, first_trial + num_trials):
        for epoch in epochs:
            for measure, exponent in exponents.items():
                scale = 1.0 + spread * rng.standard_normal()
                for level, method in aggregations:
                    for scope in scopes:
                        for order in orders:
                            for replacement in replacements:
                                power = exponent * scale if order == "least" else 1.0 / (exponent * scale)
                                for threshold, fraction in zip(fractions, fractions):
                                    val_loss = initial_loss + (chance_loss - initial_loss) * fraction ** power
                                    rows.append({
                                        "trial": trial, "seed": first_seed + trial - first_trial, "task": task,
                                        "epoch": epoch, "measure": measure, "aggregation_level": level,
                                        "aggregation_method": method, "scope": scope, "order": order,
                                        "parameters": "all", "replacement": replacement, "threshold": threshold,
                                        "fraction_removed": fraction, "loss": val_loss, "accuracy": np.nan,
                                        "val_loss": val_loss, "val_accuracy": np.nan, "chance_val_loss": chance_loss,
                                    })
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


@pytest.fixture
def make_results():
    return synthetic_results


def uneven_results(results: pd.DataFrame, num_kept: int = 9, seed: int = 0) -> pd.DataFrame:
    """``results`` with each curve of each trial keeping 0, 1/4, 1/2, 3/4, 1 and ``num_kept - 5`` other thresholds
    drawn at random, as an adaptive grid does: thresholds differ between curves and trials."""
    rng = np.random.default_rng(seed)
    start = {0.0, 0.25, 0.5, 0.75, 1.0}
    keys = ["trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "parameters",
            "replacement"]
    kept = []
    for _, curve in results.groupby(keys, sort=False):
        others = sorted(set(curve["threshold"].round(10)) - start)
        chosen = start | set(rng.choice(others, size=num_kept - len(start), replace=False).tolist())
        kept.append(curve[curve["threshold"].round(10).isin(chosen)])
    return pd.concat(kept, ignore_index=True)


@pytest.fixture
def make_uneven_results():
    return uneven_results
