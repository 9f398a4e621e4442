"""Reading results CSVs (one per experiment, all of its trials) into one tidy DataFrame.

Both kinds of results, thresholding (``load_results``) and sequential (``load_sequential``), are read and keyed
the same way; only the columns that identify a row differ (``columns.ROW_KEYS``, ``columns.SEQUENTIAL_ROW_KEYS``).

Trials across files
-------------------
Each file numbers its own trials, so the same ``trial`` id in two files may be two different trained models.
A trial is identified by ``(trial, seed)``; across files, pieces with the same ``(trial, seed)`` are treated as
one trial only when they are complementary (for example one file holds the measure ``magnitude``, another
``fisher``, both from seed 3) so that measures from separate runs can still be paired. Whenever two files both
hold a row with the same key (for thresholding: trial, task, epoch, measure, aggregation, scope, order,
replacement, threshold; for sequential learning: trial, task, sequence, measure, λ, trained and evaluated task),
or the same trial id comes with different seeds, the pieces are kept as distinct trials.
When that makes trial ids ambiguous, every trial is renumbered ``0..N-1`` in the order (file, trial, seed) and a
warning says so. Rows repeated within one file (a resumed run) keep the last. The columns ``source`` (the file)
and ``source_trial`` (its trial id there) are always added.
"""

from __future__ import annotations

import csv
import io
import json
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from Analysis import original
from Analysis.checks import check_thresholding_file
from Analysis.columns import (
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    LABEL_COLUMNS,
    OPTIONAL_COLUMNS,
    RESULT_COLUMNS,
    ROW_KEYS,
    SEQUENTIAL_ROW_KEYS,
    with_optional_columns,
)
from Schema import BASELINE_MEASURE, NO_AGGREGATION, SEQUENTIAL_COLUMNS, config_path
from Schema.reading import read_whole_rows


def load_results(paths, *, required_columns: Iterable[str] = RESULT_COLUMNS, key_columns: Iterable[str] = ROW_KEYS,
                 chance_loss: float | None = None, **criteria) -> pd.DataFrame:
    """Read one or several results CSVs into one DataFrame (see the module docstring for how trials are keyed).

    ``paths``: a path or a list of paths. ``required_columns``: the columns every file must have;
    ``key_columns``: those of them that identify a row. ``criteria``: optional filters passed to
    ``select_results`` (``epoch=3``, ``measure=["fisher", "magnitude"]``, ..., and ``keep_baseline``). Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` for an empty file, missing columns (named), values
    of the wrong type, or a selection that matches no row. Columns that older results lack
    (``columns.OPTIONAL_COLUMNS``: ``parameters``) are filled with their default. Warns when a curve lacks
    thresholds the other curves of its file have (linear and geometric grids) and when a column holds NaN
    (``checks``). A partial last line (a row still being written) is left out with a warning (``read_frame``).
    Files in the original toolkit's layouts (per trial or aggregated) are read into this schema
    (``original.from_original``), with ``chance_loss`` (None: ln 10) as their ``chance_val_loss``.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("No results CSV given: pass at least one path.")
    seen = {}
    for path in paths:
        key = path.resolve()
        if key in seen:
            raise ValueError(f"The results file {path} is given twice; each file must be given once.")
        seen[key] = path
    required_columns = tuple(required_columns)
    frames = [_read_csv(path, required_columns, chance_loss) for path in paths]
    original.check_combination(paths)
    if chance_loss is not None and not any(original.file_layout(path) for path in paths):
        warnings.warn(f"chance_loss={chance_loss!r} is ignored: it sets the chance level of results in the original "
                      "toolkit's layout only, and none of these files is; they carry their own chance_val_loss.",
                      stacklevel=2)
    if "threshold" in required_columns:
        for path, frame in zip(paths, frames):
            check_thresholding_file(frame, path, _config_or_none(path))
    for index, frame in enumerate(frames):
        frame["source"] = str(paths[index])
        frame["_source_index"] = index
    results = pd.concat(frames, ignore_index=True)
    if "trial" in results.columns:
        results = _key_trials(results, [c for c in key_columns if c in results.columns])
    results = results.drop(columns="_source_index")
    if criteria:
        results = select_results(results, **criteria)
    return results


def select_results(results: pd.DataFrame, keep_baseline: bool = True, **criteria) -> pd.DataFrame:
    """The rows whose columns take the given values: ``select_results(df, epoch=[1, 5], order="least")``.

    A value is a scalar or a list of accepted values; ``None`` leaves the column unfiltered. When ``measure`` is
    filtered and ``keep_baseline`` is true, the baseline ``random`` is kept too, so it is always there to compare
    with. Raises ``ValueError`` naming the valid columns or values when the selection is empty.
    """
    mask = np.ones(len(results), dtype=bool)
    used = {}
    for column, wanted in criteria.items():
        if wanted is None:
            continue
        if column not in results.columns:
            raise ValueError(f"Cannot select on {column!r}: no such column. Columns are {list(results.columns)}.")
        values = list(wanted) if isinstance(wanted, (list, tuple, set, np.ndarray, pd.Series)) else [wanted]
        if column == "measure" and keep_baseline and BASELINE_MEASURE not in values:
            values.append(BASELINE_MEASURE)
        column_mask = results[column].isin(values).to_numpy()
        if not column_mask.any():
            available = sorted(pd.unique(results[column]).tolist(), key=str)
            raise ValueError(f"No results have {column} in {values}; available values of {column}: {available}.")
        mask &= column_mask
        used[column] = values
    if not mask.any():
        raise ValueError(f"No results match all of {used} at once; select fewer or other values.")
    return results.loc[mask].reset_index(drop=True)


def load_sequential(csv_paths, **criteria) -> pd.DataFrame:
    """Read one or several sequential-learning CSVs (``Schema.SEQUENTIAL_COLUMNS``) into one DataFrame, trials
    keyed as thresholding results are (module docstring). ``criteria`` filter columns, e.g.
    ``measure=["none", "fisher"]``; no measure is added to a selection."""
    return load_results(csv_paths, required_columns=SEQUENTIAL_COLUMNS, key_columns=SEQUENTIAL_ROW_KEYS,
                        keep_baseline=False, **criteria)


def is_sequential_csv(path) -> bool:
    """Whether ``path`` is a CSV whose header holds the sequential-learning columns."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError):
        return False
    return set(SEQUENTIAL_COLUMNS) <= set(header)


def load_config(csv_path) -> dict | None:
    """The configuration saved beside a results CSV (``results/foo.csv`` -> ``results/foo.json``), or None."""
    path = config_path(csv_path)
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except json.JSONDecodeError as error:
        raise ValueError(f"The configuration file {path} is not valid JSON: {error}.") from error


def _config_or_none(path: Path) -> dict | None:
    """The configuration beside ``path``; None when there is none or it cannot be read (the checks then assume a
    linear grid)."""
    try:
        return load_config(path)
    except ValueError:
        return None


def _read_csv(path: Path, required_columns: tuple[str, ...], chance_loss: float | None = None) -> pd.DataFrame:
    """One results CSV, read (``read_frame``), converted from the original toolkit's layout where it is in one
    (``original.from_original``), then its columns checked and typed (``typed_results``)."""
    frame = read_frame(path)
    frame = original.from_original(frame, path, chance_loss)
    return typed_results(frame, path, required_columns)


def read_frame(path) -> pd.DataFrame:
    """The whole rows of the results CSV ``path`` as a DataFrame, as pandas reads them (no column checked yet).

    Read through ``Schema.reading.read_whole_rows``, the runners' reader: a partial last line (a row still being
    written, or a run stopped while writing it) is left out with a warning naming the file, which is never
    changed; a line damaged in the middle is an error naming it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Results file {path} does not exist.")
    if not path.is_file():
        raise ValueError(f"Results path {path} is not a file; give the path of a results CSV.")
    found = read_whole_rows(path)
    if found.partial_line:
        warnings.warn(
            f"{path} ends in a partial line of {len(found.partial_line)} characters (a row still being written, or "
            "a run stopped while writing it): it is left out of the analysis, and the file is not changed. "
            "Resuming the run cuts it and measures its row again.",
            stacklevel=4,
        )
    if not found.header:
        raise ValueError(f"Results file {path} is empty: it has no header and no rows"
                         + (" (only a partial first line)." if found.partial_line else "."))
    try:
        return pd.read_csv(io.BytesIO(found.data))
    except pd.errors.ParserError as error:
        raise ValueError(f"Results file {path} could not be read as a CSV: {error}") from error


def typed_results(frame: pd.DataFrame, path, required_columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` (the rows of ``path``) checked to hold ``required_columns`` and at least one row, its columns
    typed; a blank label reads as ``none`` (``Schema.NO_AGGREGATION``, what the runners write where there is
    nothing to name), and an absent or blank optional column as its default."""
    optional = [column for column in required_columns if column in OPTIONAL_COLUMNS]
    missing = [column for column in required_columns if column not in frame.columns and column not in optional]
    if missing:
        raise ValueError(
            f"Results file {path} lacks the columns {missing}; a results CSV has the columns "
            f"{list(required_columns)} (it has {list(frame.columns)})."
        )
    if frame.empty:
        raise ValueError(f"Results file {path} has a header but no rows.")
    if optional:
        frame = with_optional_columns(frame)
    for column in INTEGER_COLUMNS:
        if column in frame.columns:
            values = _numeric(frame[column], column, path)
            if values.isna().any() or (values != values.round()).any():
                raise ValueError(f"Column {column!r} of {path} must hold whole numbers on every row.")
            frame[column] = values.astype("int64")
    for column in FLOAT_COLUMNS:
        if column in frame.columns:
            frame[column] = _numeric(frame[column], column, path).astype("float64")
    for column in LABEL_COLUMNS:
        if column in frame.columns:
            frame[column] = frame[column].astype(object).where(frame[column].notna(), NO_AGGREGATION).astype(str)
    return frame


def _numeric(values: pd.Series, column: str, path: Path) -> pd.Series:
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        examples = values[bad].astype(str).unique()[:3].tolist()
        raise ValueError(f"Column {column!r} of {path} must be numeric, but holds {examples}.")
    return converted


def _key_trials(results: pd.DataFrame, key_columns: list[str]) -> pd.DataFrame:
    """Give every trial one id, keeping pieces from different files apart unless they are complementary."""
    results = results.copy()
    results["source_trial"] = results["trial"]
    identity_columns = ["trial", "seed"] if "seed" in results.columns else ["trial"]

    repeated = results.duplicated(subset=key_columns + ["_source_index"], keep="last")
    if repeated.any():
        warnings.warn(
            f"{int(repeated.sum())} rows repeat the keys {key_columns} of an earlier row of the same file "
            "(for example a resumed run); the last of each is kept.",
            stacklevel=3,
        )
        results = results.loc[~repeated].reset_index(drop=True)

    # Left after removing repeats within a file, rows with equal keys come from different files.
    colliding = results.duplicated(subset=key_columns + identity_columns[1:], keep=False)
    colliding_identities = results.loc[colliding, identity_columns].drop_duplicates()
    in_collision = (
        results[identity_columns].merge(colliding_identities.assign(_collides=True), how="left", on=identity_columns)
        ["_collides"].notna().to_numpy()
    )
    results["_piece"] = np.where(in_collision, results["_source_index"], -1)
    identity_keys = identity_columns + ["_piece"]
    identities = (
        results.groupby(identity_keys, sort=False)["_source_index"].min().rename("_first_source").reset_index()
        .sort_values(["_first_source"] + identity_keys, kind="stable").reset_index(drop=True)
    )
    if identities["trial"].is_unique:
        return results.drop(columns="_piece")
    identities["_new_trial"] = np.arange(len(identities), dtype="int64")
    results = results.merge(identities[identity_keys + ["_new_trial"]], how="left", on=identity_keys)
    results["trial"] = results.pop("_new_trial")
    warnings.warn(
        f"Trial ids are ambiguous across {results['source'].nunique()} results files (the same trial id with a "
        f"different seed, or rows present in two files); the {len(identities)} trials were renumbered "
        f"0..{len(identities) - 1} by (file, trial, seed). The columns 'source' and 'source_trial' keep each "
        "row's file and original trial id.",
        stacklevel=3,
    )
    return results.drop(columns="_piece")
