"""The evaluation budget: the training-loss column off by default, and ``validation_precision`` (rows stopped at
a standard error relative to chance - L0, over a seeded order of the validation examples)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from Experiment import ExperimentConfig, run_experiment
from Experiment import budget


def test_new_runs_record_no_training_loss_and_old_configurations_read_as_they_ran(tmp_path):
    config = ExperimentConfig(results_csv=str(tmp_path / "r.csv"))
    assert config.num_train_loss_examples == 0  # 0 is none; None would be every training example
    # A configuration saved before validation_precision existed, with the training count it recorded under the
    # field's old name.
    saved = config.to_dict()
    saved.pop("validation_precision")
    saved.pop("num_train_loss_examples")
    saved["num_train_examples"] = 1000
    (tmp_path / "old.json").write_text(json.dumps(saved))
    old = ExperimentConfig.load(tmp_path / "old.json")
    assert old.num_train_loss_examples == 1000 and old.validation_precision is None
    assert set(ExperimentConfig().differences(old)) >= {"num_train_loss_examples"}


class Batches:
    """An evaluator of fixed per-example losses and hits, batch by batch (``Runs.evaluation.Evaluator.batches``)."""

    def __init__(self, losses, hits, batch_size):
        self.losses, self.hits, self.batch_size = np.asarray(losses, float), np.asarray(hits, float), batch_size
        self.num_examples = len(self.losses)
        self.batches_given = 0

    def batches(self):
        for start in range(0, self.num_examples, self.batch_size):
            self.batches_given += 1
            yield self.losses[start:start + self.batch_size], self.hits[start:start + self.batch_size]

    def __call__(self):
        return float(self.losses.mean()), float(self.hits.mean())


def by_hand(values, reference, reference_mean):
    """The control-variate estimate and its standard error, from the textbook formulas."""
    beta = np.cov(values, reference, ddof=1)[0, 1] / np.var(reference, ddof=1)
    estimate = values.mean() - beta * (reference.mean() - reference_mean)
    return estimate, np.std(values - beta * reference, ddof=1) / math.sqrt(len(values))


def test_a_row_stops_at_the_first_batch_whose_standard_error_is_within_the_bound():
    rng = np.random.default_rng(0)
    n, batch = 4000, 500
    trained = budget.evaluate_all(Batches(rng.uniform(0, 1, n), rng.integers(0, 2, n), batch), per_example=True)
    assert trained.num_examples == n and trained.loss == pytest.approx(trained.losses.mean(), abs=1e-15)
    # Losses that follow the trained ones by half, plus noise; hits that mostly agree with the trained ones.
    losses = 0.5 * trained.losses + rng.normal(1.0, 1.5, n)
    hits = np.where(rng.uniform(size=n) < 0.8, trained.hits, 1 - trained.hits)
    bound = 0.045
    expected = next(k for k in range(1000, n + 1, batch)
                    if by_hand(losses[:k], trained.losses[:k], trained.loss)[1] <= bound)
    assert 1000 < expected < n
    model = Batches(losses, hits, batch)
    row = budget.estimate(model, trained, bound)
    assert row.num_examples == expected and model.batches_given == expected // batch
    assert row.loss == pytest.approx(by_hand(losses[:expected], trained.losses[:expected], trained.loss)[0],
                                     abs=1e-12)
    assert row.accuracy == pytest.approx(by_hand(hits[:expected], trained.hits[:expected], trained.accuracy)[0],
                                         abs=1e-12)
    # Losses that move with the trained ones one for one: the estimate is L0 plus their mean difference.
    shifted = trained.losses + 0.3 + rng.normal(0, 1e-3, n)
    row = budget.estimate(Batches(shifted, hits, batch), trained, 1e-3)
    assert row.num_examples == 1000
    assert row.loss == pytest.approx(trained.loss + (shifted - trained.losses)[:1000].mean(), abs=1e-4)
    # A bound of 0 (the trained model at chance) and a tiny one use every example: the plain mean.
    for tight in (0.0, 1e-9):
        row = budget.estimate(Batches(losses, hits, batch), trained, tight)
        assert row.num_examples == n
        assert row.loss == pytest.approx(losses.mean(), abs=1e-12)
    assert budget.stopping_bound(0.01, trained_loss=0.5, chance_loss=2.5) == pytest.approx(0.02)
    assert budget.stopping_bound(0.01, trained_loss=2.6, chance_loss=2.5) == 0.0
    assert budget.stopping_bound(0.01, trained_loss=math.nan, chance_loss=2.5) == 0.0


def test_validation_precision_must_be_positive_or_none(tmp_path):
    for bad in (0, -0.1, "0.01", True):
        with pytest.raises(ValueError, match="validation_precision"):
            ExperimentConfig(results_csv=str(tmp_path / "r.csv"), validation_precision=bad)


def test_a_run_with_validation_precision_records_the_examples_used(make_config, tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "MIN_EXAMPLES", 100)  # digits has a few hundred validation examples
    common = dict(epochs=1, measures=["magnitude"], num_thresholds=6, num_validation_examples=None,
                  evaluation_batch_size=50)
    full = pd.read_csv(run_experiment(make_config(tmp_path / "full.csv", validation_precision=None, **common)))
    sampled = pd.read_csv(run_experiment(make_config(tmp_path / "p.csv", validation_precision=0.05, **common)))
    total = int(full.num_val_examples_used.iloc[0])
    assert (full.num_val_examples_used == total).all() and total > 200
    ends = sampled.threshold.isin([0.0, 1.0])
    assert (sampled.num_val_examples_used[ends] == total).all()
    inner = sampled.num_val_examples_used[~ends]
    assert (inner < total).any() and (inner >= 100).all()
    assert ((inner % 50 == 0) | (inner == total)).all()
    # The examples are in a seeded order, so f = 0 and f = 1 are the full means up to round-off.
    merged = full.merge(sampled, on=["measure", "aggregation_level", "threshold"], suffixes=("_full", ""))
    at_ends = merged.threshold.isin([0.0, 1.0])
    np.testing.assert_allclose(merged.val_loss[at_ends], merged.val_loss_full[at_ends], rtol=1e-12)
    # Each estimate is within a few of its standard errors (bound 0.05 (Lc - L0)) of the full-evaluation loss.
    gap = float(full.chance_val_loss.iloc[0] - full.val_loss[full.threshold == 0].iloc[0])
    assert (np.abs(merged.val_loss - merged.val_loss_full) <= 4 * 0.05 * gap).all()
    # A precision so fine that every row uses every example gives the full evaluation's numbers.
    exact = pd.read_csv(run_experiment(make_config(tmp_path / "x.csv", validation_precision=1e-9, **common)))
    assert (exact.num_val_examples_used == total).all()
    np.testing.assert_allclose(exact.val_loss, full.val_loss, rtol=1e-12)


def test_a_file_written_before_the_column_resumes_in_its_own_layout_and_reads_as_all(make_config, tmp_path):
    from Analysis import load_results
    from Schema import THRESHOLDING_COLUMNS_BEFORE_BUDGET

    config = make_config(tmp_path / "old.csv", epochs=1, measures=["magnitude"], num_thresholds=4,
                         validation_precision=None)
    complete = pd.read_csv(run_experiment(config))
    # As an earlier version wrote it: no num_val_examples_used, no validation_precision; its last rows lost.
    complete[list(THRESHOLDING_COLUMNS_BEFORE_BUDGET)].iloc[:-3].to_csv(config.results_csv, index=False)
    saved = json.loads((tmp_path / "old.json").read_text())
    saved.pop("validation_precision")
    (tmp_path / "old.json").write_text(json.dumps(saved))
    run_experiment(ExperimentConfig.load(tmp_path / "old.json"))
    resumed = pd.read_csv(config.results_csv)
    assert list(resumed.columns) == list(THRESHOLDING_COLUMNS_BEFORE_BUDGET)
    pd.testing.assert_frame_equal(resumed, complete[list(THRESHOLDING_COLUMNS_BEFORE_BUDGET)])
    read = load_results(config.results_csv)
    assert read.num_val_examples_used.isna().all() and len(read) == len(complete)
