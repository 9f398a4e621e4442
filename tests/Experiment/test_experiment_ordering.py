"""The multi-trial ordering on digits gives the known answers (run -> Analysis statistics)."""

import Analysis
from Experiment import run_experiment


def test_magnitude_is_significantly_better_than_random_and_controls_behave(make_config, tmp_path):
    config = make_config(tmp_path / "ordering.csv", num_trials=3, epochs=2, measure_every=2,
                         measures=["magnitude", "shuffled:random"], aggregation_levels=["weight"],
                         orders=["least"], num_thresholds=11, num_validation_examples=None)
    results = Analysis.load_results(run_experiment(config))
    assert sorted(results.trial.unique()) == [0, 1, 2]
    assert sorted(results.seed.unique()) == [0, 1, 2]
    comparisons = Analysis.compare_measures(Analysis.trial_metrics(results))
    by_pair = {(row.measure_a, row.measure_b): row for row in comparisons.itertuples()}

    magnitude = by_pair[("magnitude", "random")]
    assert magnitude.num_pairs == 3
    assert magnitude.significant and magnitude.better == "magnitude", magnitude.statement

    control = by_pair.get(("shuffled:random", "random"))
    assert control is not None and not control.significant, control.statement
