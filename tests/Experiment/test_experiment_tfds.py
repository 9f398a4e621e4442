"""TensorFlow Datasets tasks through the main job, offline on mock data (``tfds.testing.mock_data``)."""

from __future__ import annotations

import pandas as pd
import pytest

from Experiment import ExperimentConfig, run_experiment

tfds = pytest.importorskip("tensorflow_datasets",
                           reason="tensorflow-datasets is not installed (optional: pip install -r requirements-tfds.txt)")


@pytest.mark.parametrize("name, options", [
    ("mnist", {}),
    ("beans", {"image_size": [32, 32], "validation_split": "validation"}),
])
def test_a_mock_tfds_task_trains_and_is_thresholded_by_the_main_job(tmp_path, name, options):
    config = ExperimentConfig(task=f"tfds:{name}", task_options=options, epochs=1, measures=["magnitude"],
                              aggregation_levels=["weight"], num_thresholds=3, num_importance_examples=16,
                              results_csv=str(tmp_path / f"{name}.csv"), progress=False)
    with tfds.testing.mock_data(num_examples=24, policy=tfds.testing.MockPolicy.USE_CODE):
        results = pd.read_csv(run_experiment(config))
    assert set(results.task) == {f"tfds:{name}"}
    assert len(results) == 2 * 3 and results.val_loss.notna().all()
