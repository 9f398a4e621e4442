"""The importance atlas on hand-written files in the saved format: rank correlations, Jaccard overlaps,
allocations, distributions and first-layer maps against hand computations; old files read, with what they lack
said; the command line and the report section."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from Analysis import paths
from Analysis.atlas import build_atlas, save_atlas
from Analysis.atlas_loading import read_importance_file
from Analysis.atlas_metrics import (agreement_table, allocation_table, distribution_table, jaccard, overlap_table,
                                    rank_weights)

REPOSITORY = Path(__file__).resolve().parents[2]

# A Dense(2) layer on a flattened 2x3 grey image, then a Dense(1): kernel (6, 2), bias (2,), kernel (2, 1), bias (1,).
DENSE_MODEL = [("dense", "Dense", "kernel", (6, 2)), ("dense", "Dense", "bias", (2,)),
               ("dense_1", "Dense", "kernel", (2, 1)), ("dense_1", "Dense", "bias", (1,))]


def write_file(path: Path, measure: str, arrays: list[np.ndarray], layout=DENSE_MODEL, trial=0, epoch=1, seed=0,
               input_shape=(2, 3, 1), first_kernel=None, described=True) -> Path:
    """One file as ``WeightImportance.save_importances`` writes it (format 2, or 1 without ``described``)."""
    keys = [f"model/{layer}/{kind}" for layer, _, kind, _ in layout]
    layers = list(dict.fromkeys(layer for layer, *_ in layout))
    contents = {key: np.asarray(a, dtype=np.float64) for key, a in zip(keys, arrays)}
    contents.update({"__format__": np.array(2 if described else 1), "__measure__": np.array(measure),
                     "__options__": np.array("{}"), "__paths__": np.array(json.dumps(keys)),
                     "__metadata__": np.array(json.dumps({"trial": trial, "epoch": epoch, "seed": seed}))})
    if described:
        tensors = [{"layer": layer, "class": cls, "keras_class": cls, "kind": kind, "layer_index": layers.index(layer)}
                   for layer, cls, kind, _ in layout]
        contents["__model__"] = np.array(json.dumps({"input_shape": list(input_shape), "tensors": tensors,
                                                     "first_kernel": keys[0] if first_kernel is not None else None}))
        if first_kernel is not None:
            contents["__first_kernel__"] = np.asarray(first_kernel, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **contents)
    return path


def run_folder(tmp_path: Path, importances: dict, config: dict | None = None, **options) -> Path:
    """``tmp_path/run_importances`` with ``importances[(trial, epoch)][measure]`` arrays, and ``run.json``."""
    folder = tmp_path / "run_importances"
    for (trial, epoch), measures in importances.items():
        for measure, arrays in measures.items():
            write_file(folder / f"trial_{trial}" / f"epoch_{epoch}" / f"{measure}.npz", measure, arrays,
                       trial=trial, epoch=epoch, seed=trial, **options)
    (tmp_path / "run.json").write_text(json.dumps({"task": "toy", "thresholds": [0, 0.3, 0.5, 1], "seed": 0,
                                                   **(config or {})}))
    return folder


def sets_of(tmp_path, measures: dict, layout=DENSE_MODEL, **options):
    return {m: read_importance_file(write_file(tmp_path / f"{m}.npz", m, arrays, layout, **options))
            for m, arrays in measures.items()}


def test_spearman_and_kendall_of_two_known_arrays(tmp_path):
    # One tensor of 5 weights: x = 1..5, y = 5, 6, 7, 8, 7. Ranks of y: 1, 2, 3.5, 5, 3.5, so
    # rho = sum(dx dy) / sqrt(sum dx^2 sum dy^2) = 8 / sqrt(10 * 9.5); tau_b: 8 concordant pairs, 1 discordant,
    # 1 tied in y, (8 - 1) / sqrt(10 * 9).
    layout = [("dense", "Dense", "kernel", (5,)), ("dense", "Dense", "bias", (2,))]
    sets = sets_of(tmp_path, {"a": [np.arange(1.0, 6.0), np.array([1.0, 1.0])],
                              "b": [np.array([5.0, 6, 7, 8, 7]), np.array([1.0, 2.0])]}, layout)
    table = agreement_table(sets).set_index("tensor")
    assert table.loc["dense/kernel", "spearman"] == pytest.approx(8 / math.sqrt(95), abs=1e-12)
    assert table.loc["dense/kernel", "kendall"] == pytest.approx(7 / math.sqrt(90), abs=1e-12)
    assert np.isnan(table.loc["dense/bias", "spearman"])  # a constant tensor has no ranking
    # Over all 7 weights: a = 1..5, 1, 1 (three 1s share rank 2) and b = 5, 6, 7, 8, 7, 1, 2; ranks by hand.
    ra, rb = np.array([2.0, 4, 5, 6, 7, 2, 2]) - 4, np.array([3, 4, 5.5, 7, 5.5, 1, 2]) - 4
    hand = np.sum(ra * rb) / math.sqrt(np.sum(ra ** 2) * np.sum(rb ** 2))
    assert table.loc["all", "spearman"] == pytest.approx(hand, abs=1e-12)
    assert table.loc["all", "num_weights"] == 7


def test_jaccard_of_two_known_masks():
    a = np.array([True, True, True, False, False, False])
    b = np.array([False, True, True, True, True, False])
    assert jaccard(a, b) == pytest.approx(2 / 5)
    assert np.isnan(jaccard(np.zeros(3, bool), np.zeros(3, bool)))


def test_overlap_of_the_removed_sets_equals_the_hand_count(tmp_path):
    # Layer dense (12 + 2 = 14 weights) and dense_1 (2 + 1 = 3). At f = 0.3 a layer of N removes floor(0.3 N + 0.5):
    # 4 of dense, 1 of dense_1. Measure a removes dense's weights 0-3 and dense_1's first; b removes dense's 2-5
    # and dense_1's last: |A & B| = 2, |A | B| = 6 + 2 = 8.
    order_a = np.arange(14.0)
    order_b = np.array([10.0, 11, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13])
    sets = sets_of(tmp_path, {"a": [order_a[:12].reshape(6, 2), order_a[12:], np.array([[0.0], [1.0]]), [2.0]],
                              "b": [order_b[:12].reshape(6, 2), order_b[12:], np.array([[2.0], [1.0]]), [0.0]]})
    table = overlap_table(sets, [0.0, 0.3, 1.0], orders=("least",)).set_index("threshold")
    assert table.loc[0.3, "jaccard"] == pytest.approx(2 / 8)
    assert table.loc[0.3, "num_removed"] == 5
    # Independent uniform sets of sizes 4 of 14 and 1 of 3: sum k^2/N over sum (2k - k^2/N).
    common = 16 / 14 + 1 / 3
    assert table.loc[0.3, "independent_jaccard"] == pytest.approx(common / (2 * 5 - common))
    assert table.loc[1.0, "jaccard"] == 1.0 and np.isnan(table.loc[0.0, "jaccard"])


def test_a_layer_removes_round_half_up_of_its_weights_and_ties_follow_the_seed(tmp_path):
    sets = sets_of(tmp_path, {"flat": [np.ones((6, 2)), np.ones(2), np.ones((2, 1)), np.ones(1)]})
    for fraction, expected in ((0.25, (4, 1)), (0.5, (7, 2)), (0.1, (1, 0))):  # floor(f N + 0.5), N = 14, 3
        masks = rank_weights(sets["flat"], scope="layer", seed=3).masks(fraction)
        assert (masks[0].sum() + masks[1].sum(), masks[2].sum() + masks[3].sum()) == expected
    first = [m.copy() for m in rank_weights(sets["flat"], seed=3).masks(0.5)]
    assert all(np.array_equal(x, y) for x, y in zip(first, rank_weights(sets["flat"], seed=3).masks(0.5)))
    assert not all(np.array_equal(x, y) for x, y in zip(first, rank_weights(sets["flat"], seed=4).masks(0.5)))


def test_model_scope_allocation_sums_to_the_overall_fraction(tmp_path):
    rng = np.random.default_rng(0)
    small = [rng.uniform(0, 0.01, (6, 2)), rng.uniform(0, 0.01, 2)]  # layer dense: every importance below dense_1's
    sets = sets_of(tmp_path, {"m": [*small, rng.uniform(1, 2, (2, 1)), rng.uniform(1, 2, 1)],
                              "r": [rng.uniform(size=s) for *_, s in DENSE_MODEL]})
    fractions = np.linspace(0, 1, 21)
    table = allocation_table(sets, fractions, orders=("least", "most"))
    for _, rows in table.groupby(["measure", "order", "threshold"]):
        weighted = float((rows["fraction_removed"] * rows["num_weights"]).sum() / rows["num_weights"].sum())
        assert weighted == pytest.approx(rows["overall_fraction"].iloc[0], abs=1e-12)
        assert rows["overall_fraction"].iloc[0] == math.floor(rows["threshold"].iloc[0] * 17 + 0.5) / 17
    half = table[(table["measure"] == "m") & (table["order"] == "least") & (table["threshold"] == 0.5)]
    # floor(0.5 * 17 + 0.5) = 9 weights, all from layer dense (14 weights), none from dense_1.
    removed = half.set_index("tensor").loc[["dense/kernel", "dense/bias"], "fraction_removed"].mul([12, 2]).sum()
    assert removed == pytest.approx(9)
    assert (half.set_index("tensor").loc[["dense_1/kernel", "dense_1/bias"], "fraction_removed"] == 0).all()
    assert half["layer_scope_fraction"].tolist() == [7 / 14, 7 / 14, 2 / 3, 2 / 3]  # floor(f N + 0.5) / N per layer


def test_distribution_summary_is_the_quantiles_of_each_tensor(tmp_path):
    kernel = np.arange(12.0).reshape(6, 2)
    sets = sets_of(tmp_path, {"m": [kernel, np.array([0.0, -1.0]), np.ones((2, 1)), np.zeros(1)]})
    table = distribution_table(sets).set_index("tensor")
    assert table.loc["dense/kernel", ["q00", "q25", "q50", "q95", "q100"]].tolist() == list(
        np.quantile(kernel, [0, 0.25, 0.5, 0.95, 1]))
    assert table.loc["dense/bias", ["fraction_zero", "fraction_negative"]].tolist() == [0.5, 0.5]
    assert table.loc["dense_1/bias", "fraction_zero"] == 1.0


def test_pixel_maps_of_a_dense_first_layer_are_mean_row_sums_over_trials(tmp_path):
    kernels = {0: np.arange(12.0).reshape(6, 2), 1: np.ones((6, 2))}
    importances = {(t, 1): {"m": [k, np.ones(2), np.ones((2, 1)), np.ones(1)],
                            "random": [k + 1, np.ones(2), np.ones((2, 1)), np.ones(1)]} for t, k in kernels.items()}
    atlas = build_atlas(run_folder(tmp_path, importances))
    maps = atlas.maps[("run", 1)]
    assert maps.kind == "pixels" and maps.trials == [0, 1]
    expected = (kernels[0].sum(axis=1) + kernels[1].sum(axis=1)).reshape(2, 3) / 2  # rows in Flatten's C order
    np.testing.assert_allclose(maps.importances["m"], expected)
    written = save_atlas(atlas, tmp_path / "out", formats=("png", "svg"), dpi=40)
    assert {p.suffix for p in written["first_layer"]} == {".png", ".svg"}
    for name in ("agreement", "overlap", "allocation", "distribution"):
        assert written[name], name


def test_filter_maps_keep_the_kernel_and_sum_each_filter(tmp_path):
    layout = [("conv2d", "Conv2D", "kernel", (3, 3, 1, 4)), ("conv2d", "Conv2D", "bias", (4,)),
              ("dense", "Dense", "kernel", (4, 2)), ("dense", "Dense", "bias", (2,))]
    kernel = np.random.default_rng(1).normal(size=(3, 3, 1, 4))
    scores = np.arange(36.0).reshape(3, 3, 1, 4)
    folder = tmp_path / "run_importances" / "trial_0" / "epoch_2"
    for measure in ("m", "random"):
        write_file(folder / f"{measure}.npz", measure, [scores, np.ones(4), np.ones((4, 2)), np.ones(2)], layout,
                   epoch=2, input_shape=(5, 5, 1), first_kernel=kernel)
    atlas = build_atlas(tmp_path / "run_importances")
    maps = atlas.maps[("run", 2)]
    assert maps.kind == "filters"
    np.testing.assert_allclose(maps.kernel, kernel.astype(np.float32))
    np.testing.assert_allclose(maps.filter_importances("m"), scores.sum(axis=(0, 1, 2)))
    assert atlas.first_layer.query("measure == 'm'")["importance"].tolist() == list(scores.sum(axis=(0, 1, 2)))


def test_filter_maps_of_more_than_16_filters_are_blocks_each_labelled_with_its_own_colour_bars():
    from Analysis.atlas_figures import plot_first_layer
    from Analysis.atlas_maps import FirstLayerMaps

    kernel = np.random.default_rng(2).normal(size=(3, 3, 1, 40))
    scores = np.arange(360.0).reshape(3, 3, 1, 40)
    maps = FirstLayerMaps("filters", "conv2d", "Conv2D", (8, 8, 1), {"m": scores, "random": -scores}, kernel, [0])
    figure = plot_first_layer(maps, "epoch 2")
    blocks = figure.subfigs
    assert len(blocks) == 3  # 16 + 16 + 8 filters
    for block in blocks:
        panels = [ax for ax in block.axes if ax.get_label() != "<colorbar>"]
        bars = [ax for ax in block.axes if ax.get_label() == "<colorbar>"]
        assert len(bars) == 3  # kernel, m, random: one bar per row of every block
        labelled = [ax.get_ylabel() for ax in panels if ax.get_ylabel()]
        assert labelled == ["kernel", "m", "random"]
    # the last block's filters are 33..40, ranked by summed importance (m: 1 = filter 40, random: reversed)
    titles = [ax.get_title() for ax in blocks[2].axes if ax.get_title()]
    assert titles[:8] == [f"filter {j}" for j in range(33, 41)]
    assert titles[8:16] == [f"#{41 - j}" for j in range(33, 41)] and titles[16:24] == [f"#{j}" for j in range(33, 41)]


def test_files_of_format_1_are_read_and_what_they_lack_is_said(tmp_path):
    arrays = [np.arange(12.0).reshape(6, 2), np.ones(2), np.ones((2, 1)), np.ones(1)]
    folder = run_folder(tmp_path, {(0, 1): {"m": arrays, "random": [a[::-1] for a in arrays]}}, described=False)
    atlas = build_atlas(folder)
    assert not atlas.agreement.empty and not atlas.overlap.empty and not atlas.allocation.empty
    assert ("run", 1) not in atlas.maps
    assert "before format 2" in atlas.notes[("run", 1)]["first_layer"]
    (tmp_path / "run.json").write_text(json.dumps({"parameters": "kernels"}))
    atlas = build_atlas(folder)
    assert atlas.agreement.empty and "layer class" in atlas.notes[("run", 1)]["selection"]
    assert not atlas.distribution.empty


def test_trials_built_in_one_process_label_their_tensors_alike(tmp_path):
    layout = [(name, "Dense", kind, shape) for name, (_, _, kind, shape) in
              zip(["dense_4", "dense_4", "dense_5", "dense_5"], DENSE_MODEL)]
    sets = sets_of(tmp_path, {"m": [np.ones(s) for *_, s in DENSE_MODEL]}, layout)
    assert [t.label for t in sets["m"].tensors] == ["dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"]


def test_the_command_line_reads_an_importances_folder_alone(tmp_path):
    rng = np.random.default_rng(0)
    importances = {(t, 1): {m: [rng.uniform(size=s) for *_, s in DENSE_MODEL] for m in ("magnitude", "random")}
                   for t in (0, 1)}
    folder = run_folder(tmp_path, importances)
    out, report = tmp_path / "figures", tmp_path / "report"
    completed = subprocess.run([sys.executable, str(REPOSITORY / "Data Analysis.py"), "--importances", str(folder),
                                "--out", str(out), "--report", str(report), "--dpi", "40", "--format", "png,pdf"],
                               cwd=REPOSITORY, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "Inside the measures" in completed.stdout
    for name in (paths.ATLAS_AGREEMENT_CSV, paths.ATLAS_OVERLAP_CSV, paths.ATLAS_ALLOCATION_CSV,
                 paths.ATLAS_DISTRIBUTION_CSV, paths.ATLAS_FIRST_LAYER_CSV):
        assert not pd.read_csv(out / name).empty, name
    for kind in paths.ATLAS_FIGURES:
        assert paths.atlas_figure(out, kind, "run", 1).with_suffix(".pdf").is_file(), kind
    text = (report / paths.ATLAS_REPORT_MARKDOWN).read_text()
    assert text.startswith("# Inside the measures")
    links = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert len(links) == len(paths.ATLAS_FIGURES) and all((report / link).is_file() for link in links)
    assert text.count("*Epoch 1.") == len(paths.ATLAS_FIGURES)  # one line on what each figure shows


def test_the_analysis_page_describes_every_table_and_figure():
    page = (REPOSITORY / "docs" / "analysis.md").read_text()
    section = page[page.index("## Inside the measures"):]
    for name in (paths.ATLAS_AGREEMENT_CSV, paths.ATLAS_OVERLAP_CSV, paths.ATLAS_ALLOCATION_CSV,
                 paths.ATLAS_DISTRIBUTION_CSV, paths.ATLAS_FIRST_LAYER_CSV, "--importances", "--no-importances"):
        assert name in section, name
    for kind in paths.ATLAS_FIGURES:
        assert f"- **{kind.replace('_', ' ')}**" in section, kind
