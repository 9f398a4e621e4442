"""Every registered measure (and the baselines) serves as EWC importance; training-time measures keep tracking."""

import math

import numpy as np
import pytest

from SequentialLearning import SequentialLearner, available_importances, get_importance


@pytest.mark.parametrize("name", available_importances())
def test_every_importance_runs_a_sequence(name, tiny_sequence):
    sequence = tiny_sequence()
    learner = SequentialLearner(sequence, name, 1.0, epochs=1, seed=0, num_importance_examples=20)
    result = learner.run()
    assert np.all(np.isfinite(result.accuracy[np.tril_indices(2)]))
    consolidated = learner.model.get_consolidation()
    if name == "none":
        assert consolidated["num_tasks"] == 0 and learner.model.ewc_lambda == 0.0
        return
    assert consolidated["num_tasks"] == 1
    omega = np.concatenate([a.ravel() for a in consolidated["sums"][0]])
    assert np.all(np.isfinite(omega)) and np.all(omega >= 0)
    assert omega.mean() == pytest.approx(1.0) or omega.max() == 0.0  # normalised to mean 1 (or no penalty)


def test_training_time_measures_keep_tracking_across_tasks(tiny_sequence):
    sequence = tiny_sequence(num_tasks=3)
    learner = SequentialLearner(sequence, "sign_flips", 1.0, epochs=2, seed=0, batch_size=8)
    (tracker,) = learner.callbacks
    learner.run()
    steps = sum(2 * math.ceil(len(task.train[0]) / 8) for task in sequence)
    assert tracker.num_updates == steps


def test_unknown_importance_and_options_are_refused():
    with pytest.raises(ValueError, match="valid: .*'uniform'"):
        get_importance("fishr")
    with pytest.raises(ValueError, match="valid options"):
        get_importance("uniform", seed=1, scale=2)
    assert get_importance("none") is None
    assert get_importance("random", seed=7).seed == 7
