"""The documentation's tables (README.md and its topic pages under docs/) are backed by the stored runs in data/:
each number equals what the stored CSV says."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def readme_table(header: str, page: str = "README.md", after: str = "") -> list[list[str]]:
    """The rows (cells stripped) of the first table whose header line starts with ``header`` in ``page`` (a path
    relative to the repository: ``README.md`` or ``docs/NAME.md``), after the text ``after``."""
    text = (ROOT / page).read_text()
    text = text[text.index(after):]
    start = text.index(header)
    lines = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]


def test_the_oracle_table_is_the_stored_oracle_run():
    stored = pd.read_csv(ROOT / "data" / "oracle_digits" / "oracle_digits.csv").set_index("measure")
    shown = {}
    for row in readme_table("| measure | Spearman with the oracle |", "docs/measures.md"):
        for measure, value in zip(row[0::2], row[1::2]):
            if measure:
                shown[measure] = float(value.replace("−", "-"))
    assert set(shown) == set(stored.index) - {"oracle"}
    for measure, value in shown.items():
        assert value == round(stored.loc[measure, "spearman"], 2), measure
    assert re.search(r"data/oracle_digits/", (ROOT / "data" / "README.md").read_text())


def sequential_table(csv_path) -> list[list[str]]:
    """The README's sequential-learning table computed from a stored sequential CSV."""
    import Analysis

    analysis = Analysis.analyze_sequential(Analysis.load_sequential([csv_path]))
    at_one = analysis.metrics[analysis.metrics["lambda"] == 1.0].groupby("measure")["forgetting"].mean()
    rows = []
    for _, row in analysis.summary.sort_values("forgetting_mean").iterrows():
        none = row.measure == "none"
        rows.append([
            row.measure, "0" if none else f"{row['lambda']:g}",
            f"{row.forgetting_mean:.3f} [{row.forgetting_ci_low:.3f}, {row.forgetting_ci_high:.3f}]",
            f"{row.average_accuracy_mean:.3f}",
            "–" if none else f"{at_one[row.measure]:.3f}",
        ])
    return rows


def test_the_sequential_table_is_the_stored_permuted_digits_run():
    stored = ROOT / "data" / "sequential_permuted_digits" / "sequential_permuted_digits.csv"
    shown = readme_table("| measure | best λ | forgetting [95 % CI] |", "docs/sequential.md")
    assert shown == sequential_table(stored)
    assert re.search(r"data/sequential_permuted_digits/", (ROOT / "data" / "README.md").read_text())


ORIGINAL_MNIST = ROOT / "data" / "original_mnist"
# This toolkit's level names and the original's, in the order the page shows them.
ORIGINAL_LEVELS = (("weight", "NO_AGGREGATION"), ("unit", "UNIT"), ("filter", "CONV_FILTER"))


def original_mnist_table(folder=ORIGINAL_MNIST, epoch: int = 25) -> list[list[str]]:
    """The original toolkit's MNIST table computed from the analysis's stored summary and comparisons: per level,
    the measures by rank with normalized AUC and max fraction within tolerance [95 % CI], and the measures each
    is better than after Holm."""
    summary = pd.read_csv(folder / "summary.csv")
    comparisons = pd.read_csv(folder / "comparisons.csv")
    rows = []
    for level, name in ORIGINAL_LEVELS:
        group = summary[(summary.epoch == epoch) & (summary.aggregation_level == level)].sort_values(
            ["rank", "measure"])
        pairs = comparisons[(comparisons.epoch == epoch) & (comparisons.aggregation_level == level)
                            & comparisons.significant]
        for row in group.itertuples():
            beaten = [other for other in group.measure
                      if other != row.measure and ((pairs.better == row.measure) & (pairs[["measure_a", "measure_b"]] == other).any(axis=1)
                          & (pairs[["measure_a", "measure_b"]] == row.measure).any(axis=1)).any()]
            rows.append([
                f"{level} (`{name}`)", str(row.rank), row.measure,
                f"{row.normalized_auc_mean:.3f} [{row.normalized_auc_ci_low:.3f}, {row.normalized_auc_ci_high:.3f}]",
                f"{row.max_fraction_within_tolerance_mean:.3f} [{row.max_fraction_within_tolerance_ci_low:.3f}, "
                f"{row.max_fraction_within_tolerance_ci_high:.3f}]",
                ", ".join(beaten) or "–",
            ])
    return rows


def original_mnist_facts(folder=ORIGINAL_MNIST, epoch: int = 25) -> list[str]:
    """The sentences of the page's reading of that table, computed from the stored files."""
    metrics = pd.read_csv(folder / "trial_metrics_epoch25.csv")
    stability = pd.read_csv(folder / "stability.csv")
    comparisons = pd.read_csv(folder / "comparisons.csv")
    levels = [level for level, _ in ORIGINAL_LEVELS]
    auc = metrics.pivot_table(index=["aggregation_level", "trial"], columns="measure", values="normalized_auc")
    inverted = (auc["random"] < auc["fisher"]).groupby(level="aggregation_level").sum()
    across_trials = stability[(stability.across == "trial") & (stability.epoch == epoch)].set_index(
        "aggregation_level")["kendalls_w"]
    across_epochs = stability[stability.across == "epoch"].set_index("aggregation_level")["kendalls_w"]
    fisher_random = comparisons[(comparisons[["measure_a", "measure_b"]].isin(["fisher", "random"])).all(axis=1)]
    unit = fisher_random[fisher_random.aggregation_level == "unit"].set_index("epoch")
    last = fisher_random[fisher_random.epoch == epoch].set_index("aggregation_level")["p_holm"]
    means = pd.read_csv(folder / "summary.csv").pivot_table(index=["epoch", "aggregation_level"], columns="measure",
                                                            values="normalized_auc_mean")
    def listing(values) -> str:
        values = [str(v) for v in values]
        return ", ".join(values[:-1]) + " and " + values[-1]

    return [
        f"random has a lower normalized AUC than fisher in {listing(inverted[level] for level in levels)} of the "
        f"{metrics.trial.nunique()} trials (weight, unit and filter level)",
        "Kendall's W across trials at epoch 25 is "
        + listing(f"{across_trials[level]:.2f}" for level in levels),
        "across the five epochs " + listing(f"{across_epochs[level]:.2f}" for level in levels),
        f"at unit level fisher differs from random after Holm only at epochs {listing(unit.index[unit.significant])}",
        f"fisher's mean normalized AUC is below random's in {int((means.fisher < means.random).sum())} of the "
        f"{len(means)} (epoch, level) cells",
        "p_holm = " + listing(f"{last[level]:.2g} ({level})" for level in levels),
    ]


def test_the_original_mnist_table_is_the_stored_analysis_of_its_published_data():
    shown = readme_table("| level | rank | measure | normalized AUC [95 % CI] |", "docs/original-toolkit.md")
    assert shown == original_mnist_table()
    text = " ".join((ROOT / "docs" / "original-toolkit.md").read_text().split())
    for fact in original_mnist_facts():
        assert fact in text, fact
    assert re.search(r"`original_mnist/`.*31fa80b0d018242c75f3a45f562ceafccfcf9a29",
                     (ROOT / "data" / "README.md").read_text())


ORIGINAL_FASHION = ROOT / "data" / "original_fashion_mnist"
ORDERING_HEADER = "| level | MNIST, the original's run"


def ordering(summary: pd.DataFrame, epoch: int, level: str) -> str:
    """The measures of ``level`` at ``epoch`` best first (by the summary's rank), as the ordering tables show."""
    group = summary[(summary.epoch == epoch) & (summary.aggregation_level == level)]
    return ", ".join(group.sort_values(["rank", "measure"]).measure)


def orderings_table() -> list[list[str]]:
    """The ordering of the five measures by level, on the original's MNIST data and on the stored run of the
    Fashion-MNIST preset, each at its last measured epoch."""
    there = pd.read_csv(ORIGINAL_MNIST / "summary.csv")
    here = pd.read_csv(ORIGINAL_FASHION / "report" / "summary.csv")
    return [[f"{level} (`{name}`)", ordering(there, 25, level), ordering(here, int(here.epoch.max()), level)]
            for level, name in ORIGINAL_LEVELS]


def test_the_orderings_here_and_there_are_the_stored_analyses():
    for page in ("README.md", "docs/original-toolkit.md"):
        assert readme_table(ORDERING_HEADER, page) == orderings_table(), page
    summary = pd.read_csv(ORIGINAL_FASHION / "report" / "summary.csv")
    assert set(summary.measure) == {"fisher", "sign_flips", "momentum_changes", "weight_change", "random"}
    assert re.search(r"`original_fashion_mnist/`", (ROOT / "data" / "README.md").read_text())


def test_the_fashion_mnist_preset_table_is_its_stored_analysis():
    shown = readme_table("| level | rank | measure |", "docs/original-toolkit.md",
                         after="## The same design on Fashion-MNIST")
    assert shown == original_mnist_table(ORIGINAL_FASHION / "report", 10)


BRIDGE_METRICS = (("normalised AUC, least important first", "auc_least"),
                  ("normalised AUC, most important first", "auc_most"),
                  ("fraction removed within 5 % tolerance", "tolerance_fraction"))


def bridge_table(study: str) -> list[list[str]]:
    """The rows the bridge table of ``docs/bridge.md`` shows for the stored study ``data/<study>``: each
    thresholding metric at weight level against forgetting on task A, at the selected λ."""
    correlations = pd.read_csv(ROOT / "data" / study / "figures" / "bridge_correlations.csv")
    selected = correlations[(correlations.aggregation_level == "weight") & (correlations.ewc_score == "forgetting_a")
                            & (correlations["lambda"] == "selected")].set_index("thresholding_metric")
    assert selected.loc["auc_least", "role"] == "primary" and (correlations.role == "primary").sum() == 1
    return [[label, row.role,
             f"{row.per_trial_spearman:.2f} [{row.per_trial_ci_low:.2f}, {row.per_trial_ci_high:.2f}]",
             f"{row.per_trial_p_raw:.2g} (raw)" if row.role == "primary" else f"{row.per_trial_p_holm:.2g} (Holm)",
             f"{row.spearman:.2f}", f"{row.spearman_p_raw:.2f}", f"{row.spearman_p_holm:.2g}"]
            for label, metric in BRIDGE_METRICS for row in [selected.loc[metric]]]


def fisher_table(study: str) -> list[list[str]]:
    """The rows of the Fisher estimators' table for ``data/<study>``: each estimator at weight level at its
    selected λ, mean [95 % CI] over trials."""
    measures = pd.read_csv(ROOT / "data" / study / "figures" / "bridge_measures.csv")
    weight = measures[measures.aggregation_level == "weight"].set_index("measure")

    def cell(row, name, digits=3):
        return (f"{row[name + '_mean']:.{digits}f} [{row[name + '_ci_low']:.{digits}f}, "
                f"{row[name + '_ci_high']:.{digits}f}]")

    return [[f"`{label}`", f"{row['lambda']:g}", cell(row, "auc_least"), cell(row, "tolerance_fraction"),
             cell(row, "forgetting_a"), cell(row, "average_accuracy")]
            for label in FISHERS for row in [weight.loc[label]]]


FISHERS = ("fisher", "fisher@sampled", "fisher@exact", "fisher@batched")


def test_the_bridge_table_is_the_stored_permuted_digits_study():
    assert readme_table("| thresholding metric (weight level) |", "docs/bridge.md") == bridge_table(
        "bridge_permuted_digits")


def test_the_fisher_estimators_tables_are_the_stored_permuted_digits_study():
    expected = fisher_table("bridge_permuted_digits")
    assert readme_table("| estimator | λ |", "docs/bridge.md") == expected
    assert readme_table("| Fisher estimator | λ |") == expected


COST_COLUMNS = {"digits_cnn": 1, "fashion_mnist_cnn": 4, "mobilenet_v2_1.0": 6}
COST_PHASES = {"one training epoch (1024 examples)": "training_epoch", "fisher (64 examples)": "fisher",
               "grasp (64 examples)": "grasp", "one thresholded evaluation": "thresholded_evaluation"}


def test_the_cost_table_is_the_stored_scale_benchmark():
    """The README's cost table holds the cells of docs/cost.md's table (itself tested against the stored JSON)."""
    cost = {row[0]: row for row in readme_table("| phase | digits_cnn", "docs/cost.md")}
    shown = readme_table("| phase, 2 CPU cores (× the epoch) |")
    assert [row[0] for row in shown] == list(COST_PHASES)
    for row in shown:
        assert row[1:] == [cost[COST_PHASES[row[0]]][i] for i in COST_COLUMNS.values()], row[0]
