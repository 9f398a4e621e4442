"""One tiny bridge study shared by the Bridge tests (permuted digits, a 16-unit MLP, one epoch, a few dozen
examples), run once with recorders on what the thresholding part ranks, what EWC consolidates and how often each
measure is computed."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import Aggregation  # noqa: E402
import WeightImportance  # noqa: E402
from Bridge import BridgeConfig, run_bridge  # noqa: E402
from SequentialLearning import EWCModel, SequentialLearner  # noqa: E402

MEASURES = ["magnitude", "fisher", "fisher@sampled", "si"]


def tiny_config(results_dir, **changes) -> BridgeConfig:
    values = dict(task="digits", sequence="permuted", num_tasks=2, model="mlp:16", seed=0, num_trials=1, epochs=1,
                  measures=MEASURES, measure_options={"fisher@sampled": {"labels": "sampled"}},
                  aggregation_levels=["weight"], orders=["least", "most"], num_thresholds=3, ewc_lambdas=[1.0],
                  lambda_extension_factor=None,
                  num_train_examples=60, num_selection_examples=30, num_validation_examples=40,
                  num_importance_examples=30, results_dir=str(results_dir), progress=False)
    values.update(changes)
    return BridgeConfig(**values)


@dataclass
class Recorded:
    """What one study did: the importances each ``rank_groups`` call ranked, the importances and Ω of each
    ``EWCModel.consolidate`` call, how often each measure class computed, and the tasks trained."""

    ranked: list = field(default_factory=list)
    consolidated: list = field(default_factory=list)
    computed: dict = field(default_factory=dict)
    trained: list = field(default_factory=list)


def record(monkeypatch, recorded: Recorded) -> None:
    rank_groups, consolidate, train_task = Aggregation.rank_groups, EWCModel.consolidate, SequentialLearner.train_task

    def ranking(model, importances, **options):
        recorded.ranked.append([np.array(a) for a in importances])
        return rank_groups(model, importances, **options)

    def consolidating(self, importances, normalization=None):
        precision = consolidate(self, importances, normalization)
        recorded.consolidated.append(([np.array(a) for a in importances], precision))
        return precision

    def training(self, index):
        recorded.trained.append(index)
        return train_task(self, index)

    monkeypatch.setattr(Aggregation, "rank_groups", ranking)
    monkeypatch.setattr(EWCModel, "consolidate", consolidating)
    monkeypatch.setattr(SequentialLearner, "train_task", training)
    for name in ("random", "magnitude", "fisher", "si"):
        cls = WeightImportance.measure_class(name)

        def computing(self, model, data=None, compute=cls.compute, name=name):
            recorded.computed[name] = recorded.computed.get(name, 0) + 1
            return compute(self, model, data)

        monkeypatch.setattr(cls, "compute", computing)


@pytest.fixture(scope="session")
def make_config():
    return tiny_config


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """(config, Recorded) of the tiny study, run to the end once."""
    config = tiny_config(tmp_path_factory.mktemp("bridge") / "study")
    recorded = Recorded()
    with pytest.MonkeyPatch.context() as monkeypatch:
        record(monkeypatch, recorded)
        run_bridge(config)
    return config, recorded
