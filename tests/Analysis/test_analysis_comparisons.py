import numpy as np
import pandas as pd
import pytest

from Analysis.comparisons import compare_measures, significance_matrix, significance_statements
from Analysis.metrics import trial_metrics
from Analysis.stability import ranking_stability
from Analysis.summary import format_summary, summarize_metrics, summary_table

EXPONENTS = {"random": 1.0, "magnitude": 3.0, "fisher": 1.6, "bad": 0.5}


@pytest.fixture
def metrics(make_results):
    return trial_metrics(make_results(EXPONENTS, num_trials=5, spread=0.05))


def test_ranks_follow_the_order_direction(metrics):
    summary = summarize_metrics(metrics)
    for order in ("least", "most"):
        ranks = summary[summary["order"] == order].set_index("measure")["rank"]
        assert ranks.to_dict() == {"magnitude": 1, "fisher": 2, "random": 3, "bad": 4}
    least = summary[summary["order"] == "least"].set_index("measure")["normalized_auc_mean"]
    most = summary[summary["order"] == "most"].set_index("measure")["normalized_auc_mean"]
    assert least["magnitude"] < least["random"] and most["magnitude"] > most["random"]


def test_summary_has_intervals_around_the_mean(metrics):
    summary = summarize_metrics(metrics)
    assert (summary["num_trials"] == 5).all()
    assert (summary["normalized_auc_ci_low"] < summary["normalized_auc_mean"]).all()
    assert (summary["normalized_auc_mean"] < summary["normalized_auc_ci_high"]).all()
    table = summary_table(summary)
    assert table["rank"].tolist()[:4] == [1, 2, 3, 4]
    assert "magnitude" in format_summary(summary)


@pytest.mark.smoke
def test_clearly_better_measure_is_significantly_better_than_random(metrics):
    comparisons = compare_measures(metrics)
    for order in ("least", "most"):
        row = comparisons[(comparisons["order"] == order) & (comparisons["measure_a"] == "magnitude")
                          & (comparisons["measure_b"] == "random")].iloc[0]
        assert row["significant"] and row["better"] == "magnitude"
        assert row["p_holm"] < 0.05 and row["num_pairs"] == 5
        assert row["statement"].startswith("magnitude is better than random (p_holm=")
    worse = comparisons[(comparisons["measure_a"] == "bad") & (comparisons["measure_b"] == "random")]
    assert worse["statement"].str.startswith("bad is worse than random").all()
    # Six pairs of four measures per group, Holm within each group.
    assert comparisons.groupby("order").size().tolist() == [6, 6]
    assert (comparisons["p_holm"] >= comparisons["p_value"]).all()


def test_identical_measures_are_never_different(make_results):
    results = make_results({"random": 1.0, "magnitude": 3.0}, num_trials=5)
    copy = results[results["measure"] == "magnitude"].assign(measure="magnitude_copy")
    comparisons = compare_measures(trial_metrics(pd.concat([results, copy], ignore_index=True)))
    twins = ["magnitude", "magnitude_copy"]
    pair = comparisons[comparisons["measure_a"].isin(twins) & comparisons["measure_b"].isin(twins)]
    assert len(pair) == 2
    assert (pair["p_value"] == 1.0).all() and (~pair["significant"]).all()
    assert pair["statement"].str.startswith("no significant difference").all()


def test_holm_family_is_the_pairs_of_the_group(metrics):
    comparisons = compare_measures(metrics)
    group = comparisons[comparisons["order"] == "least"]
    p = np.sort(group["p_value"].to_numpy())
    expected = np.maximum.accumulate(np.minimum(1, p * np.arange(len(p), 0, -1)))
    np.testing.assert_allclose(np.sort(group["p_holm"].to_numpy()), expected)


def test_significance_matrix_is_symmetric_with_ones_on_the_diagonal(metrics):
    comparisons = compare_measures(metrics)
    group = comparisons[comparisons["order"] == "least"]
    p_values, outcome = significance_matrix(group)
    assert (np.diag(p_values.to_numpy()) == 1).all()
    np.testing.assert_allclose(p_values.to_numpy(), p_values.to_numpy().T)
    assert outcome.loc["magnitude", "random"] == 1 and outcome.loc["random", "magnitude"] == -1
    with pytest.raises(ValueError, match="one group"):
        significance_matrix(comparisons)
    statements = significance_statements(comparisons, only_significant=True, with_group=True)
    assert any("magnitude is better than random" in s and s.startswith("[digits, epoch 1") for s in statements)


def test_too_few_trials_gives_a_statement_not_a_crash(make_results):
    comparisons = compare_measures(trial_metrics(make_results(num_trials=1)))
    assert comparisons["p_value"].isna().all() and (~comparisons["significant"]).all()
    assert comparisons["statement"].str.contains("too few paired trials").all()


def test_stability_of_identical_rankings_is_one(make_results):
    metrics = trial_metrics(make_results(EXPONENTS, num_trials=4, epochs=(1, 2, 3), spread=0.0))
    across_trials = ranking_stability(metrics, across="trial")
    assert len(across_trials) == 3 * 2
    np.testing.assert_allclose(across_trials["kendalls_w"], 1.0)
    np.testing.assert_allclose(across_trials["mean_spearman"], 1.0)
    across_epochs = ranking_stability(metrics, across="epoch")
    assert len(across_epochs) == 2 and (across_epochs["num_raters"] == 3).all()
    np.testing.assert_allclose(across_epochs["kendalls_w"], 1.0)
    with pytest.raises(ValueError, match="valid ones"):
        ranking_stability(metrics, across="task")


def test_constant_differences_between_tied_measures_are_not_called_significant(metrics):
    # Grid-quantised values: every trial of magnitude at 0.038 and of fisher at 0.019 (constant differences).
    metrics = metrics.copy()
    metric = "max_fraction_within_tolerance"
    metrics.loc[metrics["measure"] == "magnitude", metric] = 0.038
    metrics.loc[metrics["measure"] == "fisher", metric] = 0.019
    comparisons = compare_measures(metrics, metric=metric)
    pair = comparisons[(comparisons["measure_a"].isin(["magnitude", "fisher"]))
                       & (comparisons["measure_b"].isin(["magnitude", "fisher"]))]
    assert len(pair) == 2  # one per order
    assert pair["p_value"].isna().all() and pair["p_holm"].isna().all() and pair["effect_size"].isna().all()
    assert not pair["significant"].any()
    assert pair["reason"].str.contains("constant paired differences").all()
    assert pair["statement"].str.contains("not tested").all()
