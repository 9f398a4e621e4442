"""The same configuration and seed give the same results as a stored small run (to floating-point tolerance).

The stored CSV guards every number of the pipeline at once (task data and model, training, trackers, Fisher,
ranking, replacement, evaluation) against unintended changes, such as a speed-up that alters results.
"""

from pathlib import Path

import pandas as pd

from Experiment import run_experiment

REFERENCE = Path(__file__).parent / "data" / "reference_digits.csv"
KEYS = ["trial", "epoch", "measure", "aggregation_level", "aggregation_method", "scope", "order", "threshold"]


def test_results_match_the_stored_reference_run(make_config, tmp_path):
    config = make_config(tmp_path / "reference_digits.csv",
                         measures=["magnitude", "fisher", "sign_flips", "momentum_changes", "weight_change",
                                   "shuffled:fisher"],
                         orders=["least", "most"], num_thresholds=5)
    fresh = pd.read_csv(run_experiment(config))
    stored = pd.read_csv(REFERENCE)
    assert len(fresh) == len(stored)
    merged = stored.merge(fresh, on=KEYS, suffixes=("_stored", "_fresh"), validate="one_to_one")
    assert len(merged) == len(stored)
    for column in ["fraction_removed", "loss", "accuracy", "val_loss", "val_accuracy", "chance_val_loss"]:
        pd.testing.assert_series_equal(merged[column + "_stored"], merged[column + "_fresh"], check_names=False,
                                       rtol=1e-4, atol=1e-5)
