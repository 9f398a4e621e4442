"""The stored runs in data/ back the README: its ranking table is what the analysis computes from the stored CSV."""

import warnings
from pathlib import Path

from Analysis.loading import load_results
from Analysis.summary import interval_text, summary_table, tolerance_fraction_shown
from Analysis.thresholding import analyze

ROOT = Path(__file__).resolve().parents[2]
STORED_CSV = ROOT / "data" / "fashion_mnist" / "fashion_mnist.csv"
HEADER = "| order | rank | measure | normalised AUC [95 % CI] | max fraction within 5 % |"


def readme_ranking() -> list[tuple[str, ...]]:
    """(order, rank, measure, normalised AUC text, max fraction text) of each row of the worked example's table."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(HEADER) + 2  # after the header and its rule
    rows, order = [], None
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        order = cells[0].split()[0] if cells[0] else order  # "least (lower is better)", then blank
        rows.append((order, *cells[1:]))
    return rows


def test_the_readme_ranking_table_is_what_the_stored_run_gives():
    expected = readme_ranking()
    assert len(expected) == 12 and {row[0] for row in expected} == {"least", "most"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the stored run is complete and has no NaN
        results = load_results(STORED_CSV)
    table = summary_table(analyze(results).summary)  # the defaults of Data Analysis.py
    computed = [
        (row.order, str(int(row.rank)), row.measure,
         interval_text(row.normalized_auc_mean, row.normalized_auc_ci_low, row.normalized_auc_ci_high),
         f"{row.max_fraction_within_tolerance_mean:.3f}" if tolerance_fraction_shown(row.order) else "")
        for row in table.itertuples(index=False)
    ]
    assert computed == expected
