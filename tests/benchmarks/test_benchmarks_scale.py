"""The scale benchmark's pure parts: the growth exponent of a known power law, the verdicts of what does not fit,
and the shape of one small model's measurement (no timed assertions)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import scale


def test_the_exponent_of_a_power_law_is_recovered_exactly():
    sizes = [1e4, 3e4, 1e5, 4e5, 2e6]
    fit = scale.fit_exponent(sizes, [2.5e-7 * s**1.3 for s in sizes])
    assert fit["exponent"] == pytest.approx(1.3, abs=1e-9)
    assert fit["coefficient"] == pytest.approx(2.5e-7, rel=1e-6)
    assert fit["r_squared"] == pytest.approx(1.0)
    assert fit["num_points"] == 5


def test_the_exponent_is_the_least_squares_slope_of_the_logarithms():
    sizes = np.array([1e4, 1e5, 1e6])
    noise = np.array([1.1, 0.9, 1.05])
    values = 3e-3 * sizes**0.5 * noise
    fit = scale.fit_exponent(sizes, values)
    x, y = np.log(sizes), np.log(values)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
    assert fit["exponent"] == pytest.approx(slope, rel=1e-12)
    assert 0 < fit["r_squared"] < 1


def test_missing_and_non_positive_values_are_left_out_and_one_size_gives_no_exponent():
    fit = scale.fit_exponent([1e3, 1e4, 1e5, 1e6], [None, 0.0, 2.0, 20.0])
    assert fit["num_points"] == 2 and fit["exponent"] == pytest.approx(1.0)
    assert scale.fit_exponent([1e4, 1e4], [1.0, 2.0])["exponent"] is None
    assert scale.fit_exponent([1e4], [float("nan")])["num_points"] == 0


def model_result(num_training_examples=60_000, epoch_per_example=1e-3):
    """A measured model as ``measure_model`` returns it, with hand-set figures."""
    return {
        "num_task_training_examples": num_training_examples,
        "measures": ["magnitude", "fisher", "oracle", "si"],
        "phases": {
            "training_epoch": {"seconds": 1.0, "seconds_per_example": epoch_per_example},
            "magnitude": {"seconds": 0.1, "seconds_per_example": 0.1, "tracing_seconds": 0.0, "needs_data": False},
            # 0.2 s per example: 1000 examples take 200 s + 5 s of tracing, over the 60 s epoch
            "fisher": {"seconds": 30.0, "seconds_per_example": 0.2, "tracing_seconds": 5.0, "needs_data": True,
                       "rss_increase_mb": 100.0, "batch_size": 64},
            "oracle": {"seconds": 2.0, "seconds_per_example": 0.01, "tracing_seconds": 1.0, "needs_data": True,
                       "estimated_unit_seconds_per_example": 0.01, "num_layers": 12},
            "si": {"seconds": 0.5, "seconds_per_example": 1e-4, "fixed_seconds_per_fit": 2.0, "compute_seconds": 0.1,
                   "needs_data": False},
        },
    }


def test_a_measure_slower_than_the_epoch_and_a_minute_is_listed_with_the_examples_that_fit():
    found = {entry["measure"]: entry for entry in scale.does_not_fit(model_result(), 1000, memory_bytes=None)}
    assert set(found) == {"fisher"}  # oracle: 1 + 10 s, si: 2 + 6 + 0.1 s, magnitude 0.1 s: all under 60 s
    assert found["fisher"]["projected_seconds"] == pytest.approx(205.0)
    assert found["fisher"]["full_epoch_seconds"] == pytest.approx(60.0)
    # (60 s - 5 s of tracing) / 0.2 s per example
    assert found["fisher"]["fix"] == "num_importance_examples <= 275"


def test_the_oracle_fix_names_the_layer_level_and_memory_over_the_limit_names_a_batch_size():
    result = model_result(num_training_examples=1000, epoch_per_example=1e-3)
    result["phases"]["oracle"]["estimated_unit_seconds_per_example"] = 1.0
    found = {entry["measure"]: entry for entry in scale.does_not_fit(result, 1000, memory_bytes=200 * 2**20)}
    assert found["oracle"]["projected_seconds"] == pytest.approx(1001.0)
    assert found["oracle"]["fix"] == "level='layer' (12 passes), or num_importance_examples <= 59"
    # 100 MB over a quarter of 200 MB: the batch of 64 scaled by 50 / 100
    assert found["fisher"]["memory_fix"] == "batch_size <= 32"


def test_ratios_are_over_the_training_epoch_of_the_same_model():
    assert scale.ratios(model_result())["fisher"] == 30.0


def test_grayscale_images_become_32_by_32_by_3():
    x = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28, 1)
    padded = scale.padded_images(x)
    assert padded.shape == (2, 32, 32, 3)
    assert np.array_equal(padded[:, 2:30, 2:30, 1], x[..., 0]) and padded[:, :2].sum() == 0
    upsampled = scale.padded_images(np.ones((1, 8, 8, 1), np.float32))
    assert upsampled.shape == (1, 32, 32, 3) and upsampled.sum() == 32 * 32 * 3


def test_one_small_model_is_measured_in_every_phase():
    setup = scale.Setup("test", ("digits_mlp",), num_warmup_examples=1437, num_warmup_epochs=2, num_epoch_examples=64,
                        num_importance_examples=16, num_validation_examples=64, oracle_max_groups=300,
                        measures=("magnitude", "fisher", "oracle", "sign_flips"))
    result = scale.measure_model("digits_mlp", setup)
    assert result["num_parameters"] == 64 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10
    assert result["validation"]["above_chance"]
    assert set(result["phases"]) == {"training_epoch", "magnitude", "fisher", "oracle", "sign_flips",
                                     "ranking_weight", "ranking_unit", "thresholded_evaluation"}
    assert result["phases"]["oracle"]["level"] == "unit"
    assert result["phases"]["oracle"]["num_forward_passes"] == 100 + 100 + 10 + 1
    assert result["phases"]["fisher"]["num_examples"] == 16
    tracker = result["phases"]["sign_flips"]
    assert tracker["fixed_seconds_per_fit"] >= 0 and tracker["seconds_per_example"] >= 0
    assert tracker["seconds"] == pytest.approx(
        max(tracker["tracked_epoch_seconds"] - result["phases"]["training_epoch"]["seconds"], 0)
        + tracker["compute_seconds"], abs=2e-4)
    evaluation = result["phases"]["thresholded_evaluation"]
    assert list(evaluation["evaluation_seconds_by_examples"]) == ["16", "32", "64"]
    for phase in result["phases"].values():
        assert phase["seconds"] >= 0 and math.isfinite(phase["seconds_per_example"])
    summary = scale.summarise({"digits_mlp": result}, 1000)
    assert set(summary["exponents"]) == set(result["phases"])
    assert summary["exponents"]["fisher"]["seconds_per_example"]["exponent"] is None  # one model: no slope


def test_the_cost_page_shows_the_stored_benchmark():
    stored = scale.REPOSITORY / "docs" / "benchmarks" / "scale_cpu_2_cores_2026-12-04.json"
    page = (scale.REPOSITORY / "docs" / "cost.md").read_text()
    tables = scale.markdown_tables(json.loads(stored.read_text()))
    for table in tables.split("\n\n"):
        assert table in page
