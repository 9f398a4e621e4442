"""The README's tables are backed by the stored runs in data/: each number equals what the stored CSV says."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def readme_table(header: str) -> list[list[str]]:
    """The rows (cells stripped) of the README table whose header line starts with ``header``."""
    text = (ROOT / "README.md").read_text()
    start = text.index(header)
    lines = text[start:].split("\n\n", 1)[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in lines]


def test_the_oracle_table_is_the_stored_oracle_run():
    stored = pd.read_csv(ROOT / "data" / "oracle_digits" / "oracle_digits.csv").set_index("measure")
    shown = {}
    for row in readme_table("| measure | Spearman with the oracle |"):
        for measure, value in zip(row[0::2], row[1::2]):
            if measure:
                shown[measure] = float(value.replace("−", "-"))
    assert set(shown) == set(stored.index) - {"oracle"}
    for measure, value in shown.items():
        assert value == round(stored.loc[measure, "spearman"], 2), measure
    assert re.search(r"data/oracle_digits/", (ROOT / "data" / "README.md").read_text())
