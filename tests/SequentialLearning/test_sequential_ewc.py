"""The established result: EWC with the Fisher information forgets much less than plain fine-tuning.

Permuted digits learnt by an MLP (no BatchNormalization: its moving statistics are not weights, so no penalty
holds them; see SequentialLearning/models.py), two tasks, three seeds.
"""

import pandas as pd

import Analysis
from SequentialLearning import run_sequential


def test_fisher_forgets_less_than_fine_tuning_in_every_seed(tmp_path, make_config):
    config = make_config(tmp_path / "ewc.csv", sequence="permuted", model="mlp", num_trials=3, epochs=3,
                         measures=["none", "fisher"], ewc_lambdas=[10.0], num_train_examples=None,
                         num_validation_examples=None, num_importance_examples=300)
    run_sequential(config)
    metrics = Analysis.run_metrics(Analysis.load_sequential(config.results_csv))
    forgetting = metrics.pivot(index="trial", columns="measure", values="forgetting")
    assert len(forgetting) == 3
    assert (forgetting["fisher"] < forgetting["none"]).all(), forgetting
    assert forgetting["none"].mean() > 0.1, forgetting  # fine-tuning forgets ...
    assert (forgetting["none"] - forgetting["fisher"]).mean() > 0.1, forgetting  # ... and EWC removes most of it
    test = Analysis.paired_test(forgetting["fisher"], forgetting["none"])
    assert test.p_value < 0.05, test
    final = metrics.pivot(index="trial", columns="measure", values="average_accuracy")
    assert (final["fisher"] > final["none"]).all(), pd.concat([forgetting, final], axis=1)
