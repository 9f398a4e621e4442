"""Checkpoints: every measured epoch's is kept, and a damaged one is an error naming the file that changes
nothing in the model."""

import numpy as np
import pytest

from Runs.checkpoints import CheckpointError, checkpoints, load_checkpoint, save_checkpoint, set_aside


def test_every_epoch_is_kept_and_a_damaged_file_changes_nothing(tmp_path, tiny_model):
    results = tmp_path / "r.csv"
    first = save_checkpoint(results, 0, 1, tiny_model, {})
    before = [np.array(v) for v in tiny_model.variables]
    tiny_model.layers[0].kernel.assign(np.zeros((3, 2), np.float32))
    second = save_checkpoint(results, 0, 2, tiny_model, {})
    assert checkpoints(results, 0) == {1: first, 2: second}

    second.write_bytes(second.read_bytes()[:-100])  # cut short, as by a full disk
    with pytest.raises(CheckpointError, match=rf"Checkpoint {second} cannot be read"):
        load_checkpoint(second, tiny_model, {})
    np.testing.assert_array_equal(np.array(tiny_model.layers[0].kernel), np.zeros((3, 2)))
    with pytest.warns(RuntimeWarning, match=rf"{second} cannot be read[\s\S]*moved to {second}\.corrupt"):
        set_aside(second, CheckpointError(f"Checkpoint {second} cannot be read."), "from epoch 1")
    assert checkpoints(results, 0) == {1: first}

    load_checkpoint(first, tiny_model, {})
    for variable, value in zip(tiny_model.variables, before):
        np.testing.assert_array_equal(np.array(variable), value)
