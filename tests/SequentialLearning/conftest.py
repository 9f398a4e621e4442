"""Shared pieces of the sequential-learning tests: a tiny hand-set model, tiny task sequences, small configurations
and hand-made results CSVs."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import Schema  # noqa: E402
import Tasks  # noqa: E402
from SequentialLearning import SequenceTask, SequentialConfig, TaskSequence  # noqa: E402

SEQUENTIAL_COLUMNS = list(Schema.SEQUENTIAL_COLUMNS)


def _tiny_model(seed: int = 0) -> keras.Model:
    """Dense(3 -> 4) logits: kernel (3, 4), bias (4,)."""
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name="dense")], name="tiny")


@pytest.fixture
def tiny_model():
    """A compiled Dense(3 -> 4) model with hand-set weights; SGD(0.1), cross-entropy on logits."""
    model = _tiny_model()
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    kernel = np.arange(12, dtype=np.float32).reshape(3, 4) / 10.0 - 0.5
    bias = np.array([0.1, -0.2, 0.3, 0.0], np.float32)
    model.set_weights([kernel, bias])
    return model


@pytest.fixture
def tiny_data():
    """Five examples of 3 features with labels in 0..3."""
    x = np.array([[1.0, 0.0, 2.0], [0.5, -1.0, 0.0], [0.0, 1.0, 1.0], [2.0, 2.0, -1.0], [-1.0, 0.5, 0.5]],
                 np.float32)
    y = np.array([0, 1, 2, 3, 1], np.int64)
    return x, y


@pytest.fixture(scope="session")
def tiny_sequence():
    """make_sequence(num_tasks=2, num_examples=40): a permuted sequence of digits flattened to 64 features, learnt
    by a small MLP (Dense 16 relu, Dense 10), so every registered measure computes in a moment."""

    def make_sequence(num_tasks: int = 2, num_examples: int = 40, seed: int = 0) -> TaskSequence:
        digits = Tasks.get_task("digits", seed=seed)
        train = (digits.train[0][:num_examples].reshape(num_examples, -1), digits.train[1][:num_examples])
        validation = (digits.validation[0][:num_examples].reshape(num_examples, -1),
                      digits.validation[1][:num_examples])

        def build(model_seed):
            return keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
                                     keras.layers.Dense(10)], name="small_mlp")

        task = Tasks.make_task("digits", train, validation, build, Tasks.classification_loss(), 10, 16, seed)
        rng = np.random.default_rng(seed)
        tasks = []
        for index in range(num_tasks):
            permutation = np.arange(64) if index == 0 else rng.permutation(64)
            tasks.append(SequenceTask(f"digits/permutation {index}", (train[0][:, permutation], train[1]),
                                      (validation[0][:, permutation], validation[1]), None))
        return TaskSequence("permuted", task, tasks)

    return make_sequence


def small_config(results_csv, **changes) -> SequentialConfig:
    values = dict(task="digits", sequence="split", num_tasks=2, seed=0, num_trials=1, epochs=1,
                  measures=["none", "uniform"], ewc_lambdas=[1.0], num_train_examples=120,
                  num_validation_examples=60, num_importance_examples=60, results_csv=str(results_csv),
                  progress=False)
    values.update(changes)
    return SequentialConfig(**values)


@pytest.fixture(scope="session")
def make_config():
    """small_config as a fixture: make_config(results_csv, **changes)."""
    return small_config


@pytest.fixture(scope="session")
def make_sequential_results():
    """make_sequential_results(path, forgetting={measure: {lambda: [per trial]}}, final_new=...) writes a
    two-task results CSV whose metrics are known: R[0,0] = 0.9, R[1,0] = 0.9 - forgetting, R[1,1] = final_new."""

    def write(path, forgetting: dict, final_new: dict | None = None, task: str = "digits", num_trials: int = 3):
        rows = []
        for measure, by_lambda in forgetting.items():
            for value, per_trial in by_lambda.items():
                for trial in range(num_trials):
                    new = (final_new or {}).get(measure, {}).get(value, 0.95)
                    for trained, evaluated, accuracy in ((0, 0, 0.9), (1, 0, 0.9 - per_trial[trial]),
                                                         (1, 1, new)):
                        rows.append({"trial": trial, "seed": trial, "task": task, "sequence": "split",
                                     "measure": measure, "lambda": float(value), "trained_task": trained,
                                     "evaluated_task": evaluated, "accuracy": accuracy, "loss": 1.0 - accuracy,
                                     "penalty": 0.0})
        frame = pd.DataFrame(rows, columns=SEQUENTIAL_COLUMNS)
        frame.to_csv(path, index=False)
        return frame

    return write


@pytest.fixture(scope="session")
def make_thresholding_results():
    """make_thresholding_results(path, slopes={measure: slope}) writes a thresholding CSV (weight level, order
    least) whose validation loss rises linearly with the fraction removed at each measure's slope (plus a little
    per-trial noise): a larger slope is a larger normalized AUC, i.e. a worse measure."""

    def write(path, slopes: dict, task: str = "digits", num_trials: int = 3):
        rng = np.random.default_rng(0)
        rows = []
        for trial in range(num_trials):
            for measure, slope in slopes.items():
                for threshold in np.linspace(0, 1, 6):
                    loss = 0.2 + (slope + 0.01 * rng.standard_normal()) * threshold if threshold < 1 else 2.5
                    rows.append({"trial": trial, "seed": trial, "task": task, "epoch": 3, "measure": measure,
                                 "aggregation_level": "weight", "aggregation_method": "none", "scope": "layer",
                                 "order": "least", "replacement": "noise", "threshold": threshold,
                                 "fraction_removed": threshold, "loss": loss, "accuracy": 0.9, "val_loss": loss,
                                 "val_accuracy": 0.9, "chance_val_loss": 2.5})
        pd.DataFrame(rows).to_csv(path, index=False)

    return write
