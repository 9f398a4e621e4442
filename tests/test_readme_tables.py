"""The documentation's tables (README.md and its topic pages under docs/) are backed by the stored runs in data/:
each number equals what the stored CSV says."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def readme_table(header: str, page: str = "README.md") -> list[list[str]]:
    """The rows (cells stripped) of the table whose header line starts with ``header`` in ``page`` (a path
    relative to the repository: ``README.md`` or ``docs/NAME.md``)."""
    text = (ROOT / page).read_text()
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
            "–" if none else f"{row.forgetting_p_vs_none:.3f}",
            "–" if none else f"{at_one[row.measure]:.3f}",
        ])
    return rows


def test_the_sequential_table_is_the_stored_permuted_digits_run():
    stored = ROOT / "data" / "sequential_permuted_digits" / "sequential_permuted_digits.csv"
    shown = readme_table("| measure | best λ | forgetting [95 % CI] |", "docs/sequential.md")
    assert shown == sequential_table(stored)
    assert re.search(r"data/sequential_permuted_digits/", (ROOT / "data" / "README.md").read_text())
