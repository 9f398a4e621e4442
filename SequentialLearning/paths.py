"""Every output path of a sequential-learning experiment, built from ``results_csv``.

    results/sequential_digits.csv     the rows (all trials, keyed by ``trial``)
    results/sequential_digits.json    the configuration that produced them
"""

from __future__ import annotations

from pathlib import Path


def results_csv(results: str | Path) -> Path:
    return Path(results)


def config_json(results: str | Path) -> Path:
    return Path(results).with_suffix(".json")
