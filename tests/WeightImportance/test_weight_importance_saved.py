"""Importances saved to a file and loaded back: the same arrays in the model's order, matched by variable path,
with the measure, its options and metadata; models whose weights do not match are refused."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import Tasks
from WeightImportance import get_measure, load_importances, read_importances_info, save_importances


@pytest.fixture(scope="module")
def digits():
    """The digits task (CNN with BatchNormalization) and its Fisher importances on 64 training examples."""
    task = Tasks.get_task("digits", seed=0)
    importances = get_measure("fisher", num_samples=64).compute(task.model, task.train)
    return task, importances


def test_loaded_importances_equal_the_computed_ones(digits, tmp_path):
    task, importances = digits
    path = save_importances(tmp_path / "fisher.npz", task.model, importances, measure="fisher",
                            options={"num_samples": 64})
    loaded = load_importances(path, task.model)
    assert len(loaded) == len(task.model.trainable_weights)
    for got, want in zip(loaded, importances):
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)
    assert sorted(os.listdir(tmp_path)) == ["fisher.npz"]  # no temporary file left behind


def test_measure_options_and_metadata_round_trip(digits, tmp_path):
    task, importances = digits
    path = tmp_path / "fisher.npz"
    save_importances(path, task.model, importances, measure="fisher", options={"labels": "data", "num_samples": 64},
                     task="digits", trial=np.int64(2), epoch=5, thresholds=np.array([0.1, 0.5]))
    info = read_importances_info(path)
    assert info["measure"] == "fisher"
    assert info["options"] == {"labels": "data", "num_samples": 64}
    assert info["metadata"] == {"task": "digits", "trial": 2, "epoch": 5, "thresholds": [0.1, 0.5]}
    assert info["paths"] == [v.path for v in task.model.trainable_weights]


def test_a_failed_save_keeps_the_previous_file(digits, tmp_path):
    task, importances = digits
    path = tmp_path / "fisher.npz"
    save_importances(path, task.model, importances, measure="fisher", epoch=1)
    with pytest.raises(ValueError, match="metadata must be plain JSON values"):
        save_importances(path, task.model, importances, measure="fisher", epoch=object())
    assert read_importances_info(path)["metadata"] == {"epoch": 1}
    assert sorted(os.listdir(tmp_path)) == ["fisher.npz"]


def test_a_model_with_another_layer_layout_is_refused(digits, tiny_cnn, tmp_path):
    task, importances = digits
    path = save_importances(tmp_path / "fisher.npz", task.model, importances, measure="fisher")
    with pytest.raises(ValueError, match=r"missing from the file: \[.*\]; in the file but not in the model: "
                                         r"\['digits/conv2d(_\d+)?/kernel'"):
        load_importances(path, tiny_cnn)


def _named_model(units):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units, name="hidden"),
                             keras.layers.Dense(2, name="out")], name="named")


def test_a_model_whose_shapes_differ_is_refused(tmp_path):
    model = _named_model(4)
    path = save_importances(tmp_path / "magnitude.npz", model, get_measure("magnitude").compute(model),
                            measure="magnitude")
    with pytest.raises(ValueError, match=r"shapes differ: \['named/hidden/kernel: file \(3, 4\), model \(3, 5\)'"):
        load_importances(path, _named_model(5))


class _TwoWeightsOneName(keras.layers.Layer):
    def build(self, input_shape):
        self.first = self.add_weight(shape=(input_shape[-1],), name="w")
        self.second = self.add_weight(shape=(input_shape[-1],), name="w")

    def call(self, x):
        return x * self.first * self.second


def test_shared_paths_and_bad_importances_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), _TwoWeightsOneName(name="twice")])
    with pytest.raises(ValueError, match=r"share the paths \['sequential.*/twice/w'\].*unique names"):
        save_importances(tmp_path / "x.npz", model, [np.ones(3), np.ones(3)], measure="magnitude")
    named = _named_model(4)
    with pytest.raises(ValueError, match="Got 1 importance arrays for the 4 trainable weights"):
        save_importances(tmp_path / "x.npz", named, [np.ones((3, 4))], measure="magnitude")
    assert not os.listdir(tmp_path)


def test_ewc_consolidates_loaded_importances_as_computed_ones(digits, tmp_path):
    from SequentialLearning.ewc import ewc_model

    task, importances = digits
    path = save_importances(tmp_path / "fisher.npz", task.model, importances, measure="fisher")
    computed, loaded = ewc_model(task.model), ewc_model(task.model)
    # The EWC wrapper shares the model's variables, so the file loads into it directly.
    omega_loaded = loaded.consolidate(load_importances(path, loaded))
    omega_computed = computed.consolidate(importances)
    for a, b in zip(omega_loaded, omega_computed):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.get_consolidation()["sums"], computed.get_consolidation()["sums"]):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)


def test_a_second_build_of_the_same_architecture_loads_by_order(tmp_path):
    import Tasks
    import WeightImportance

    first = Tasks.get_task("digits", seed=0).model
    second = Tasks.get_task("digits", seed=1).model  # same code, other automatic layer names
    assert [w.path for w in first.trainable_weights] != [w.path for w in second.trainable_weights]
    importances = WeightImportance.get_measure("magnitude").compute(first)
    file = WeightImportance.save_importances(tmp_path / "m.npz", first, importances, measure="magnitude")
    for loaded, saved in zip(WeightImportance.load_importances(file, second), importances):
        np.testing.assert_array_equal(loaded, saved)


def test_exact_paths_win_over_the_order_of_the_weights(tmp_path):
    """The same layers (so the same variable paths) in another order: each array goes to its own variable, not to
    the variable at its position."""
    first, second = keras.layers.Dense(3), keras.layers.Dense(3)  # automatic names dense_<n>, dense_<n+1>
    inputs = keras.Input((3,))
    forward = keras.Model(inputs, second(first(inputs)))
    backward = keras.Model(inputs, first(second(inputs)))
    importances = [np.full(tuple(w.shape), float(i)) for i, w in enumerate(forward.trainable_weights)]
    file = save_importances(tmp_path / "m.npz", forward, importances, measure="magnitude")
    by_path = dict(zip([w.path for w in forward.trainable_weights], importances))
    loaded = load_importances(file, backward)
    assert [w.path for w in backward.trainable_weights] == [w.path for w in forward.trainable_weights[2:]
                                                            + forward.trainable_weights[:2]]
    for array, variable in zip(loaded, backward.trainable_weights):
        np.testing.assert_array_equal(array, by_path[variable.path])


def _blocks(*names):
    return keras.Sequential([keras.Input((3,))] + [keras.layers.Dense(3, name=name) for name in names],
                            name="blocks")


def test_numbers_in_names_the_user_chose_are_not_renumbered(tmp_path):
    saved = _blocks("block_1", "block_2")
    file = save_importances(tmp_path / "m.npz", saved, get_measure("magnitude").compute(saved), measure="magnitude")
    with pytest.raises(ValueError, match=r"missing from the file: \['blocks/block_3/kernel'.*in the file but not in "
                                         r"the model: \['blocks/block_1/kernel'"):
        load_importances(file, _blocks("block_2", "block_3"))
    # The same names in another order are matched by name.
    swapped = _blocks("block_2", "block_1")
    for array, variable in zip(load_importances(file, swapped), swapped.trainable_weights):
        index = [w.path for w in saved.trainable_weights].index(variable.path)
        np.testing.assert_array_equal(array, np.abs(np.array(saved.trainable_weights[index])))


def test_automatic_numbers_are_renumbered_by_the_layers_class(tmp_path):
    saved = _blocks("dense_3", "dense_4")  # names Keras gives Dense layers
    file = save_importances(tmp_path / "m.npz", saved, get_measure("magnitude").compute(saved), measure="magnitude")
    for array, variable in zip(load_importances(file, _blocks("dense", "dense_12")), saved.trainable_weights):
        np.testing.assert_array_equal(array, np.abs(np.array(variable)))
    # A layer the user named block_4 is not the automatic dense_4 renumbered.
    with pytest.raises(ValueError, match=r"in the file but not in the model: \['blocks/dense_4/kernel'"):
        load_importances(file, keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, name="dense_3"),
                                                 keras.layers.Dense(3, name="block_4")], name="blocks"))


def test_a_killed_save_leaves_no_temporary_file_after_the_next_save(digits, tmp_path):
    """A write killed before its rename (no cleanup ran: its temporary file names a process that is gone) is
    cleaned by the next save of the same file, and the folder is fsynced after the rename."""
    task, importances = digits
    path = save_importances(tmp_path / "fisher.npz", task.model, importances, measure="fisher", epoch=1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f".fisher.npz.{int(dead.stdout)}.0a1b2c3d.tmp").write_bytes(b"half a file")
    synced = []
    fsync = os.fsync
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(os.path.isdir(f"/proc/self/fd/{fd}")), fsync(fd)))
        save_importances(path, task.model, importances, measure="fisher", epoch=2)
    assert synced == [False, True]  # the file, then its folder
    assert sorted(os.listdir(tmp_path)) == ["fisher.npz"]
    assert read_importances_info(path)["metadata"] == {"epoch": 2}
