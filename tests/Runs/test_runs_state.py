"""Checkpointed state keyed by variable path: variables created in another order still get their own arrays, a
model that does not fit is refused naming the paths, and checkpoints written by position still load."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from Runs import paths, state
from Runs.checkpoints import CheckpointError, load_checkpoint, remove_checkpoints, save_checkpoint
from WeightImportance import get_measure

X = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(8, 3)
Y = np.linspace(0.0, 2.0, 32, dtype=np.float32).reshape(8, 4)


class Pair(keras.Model):
    """Two Dense(3 -> 2) layers, ``left`` and ``right``, created (and so ordered in ``variables``) in ``order``."""

    def __init__(self, order):
        super().__init__(name="pair")
        for name in order:
            setattr(self, name, keras.layers.Dense(2, name=name))

    def call(self, x):
        return keras.ops.concatenate([self.left(x), self.right(x)], axis=-1)


def _pair(order) -> Pair:
    model = Pair(order)
    model(X[:1])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.optimizer.build(model.trainable_variables)
    for i, variable in enumerate(model.variables):  # every variable different, so a swap shows
        variable.assign(np.full(tuple(variable.shape), 0.1 * (i + 1), np.float32))
    return model


def _by_path(variables) -> dict[str, np.ndarray]:
    return {v.path: np.array(v) for v in variables}


def test_kernels_created_in_another_order_load_into_their_own_variables(tmp_path):
    saved = _pair(["left", "right"])
    measure = get_measure("weight_change")
    saved.fit(X, Y, epochs=2, batch_size=4, verbose=0, shuffle=False, callbacks=measure.callbacks())
    file = save_checkpoint(tmp_path / "r.csv", 0, 1, saved, {"weight_change": measure})

    loaded = _pair(["right", "left"])  # same paths, the two kernels (same shape) in the other order
    assert [v.path for v in loaded.trainable_weights] == [v.path for v in saved.trainable_weights[2:]
                                                          + saved.trainable_weights[:2]]
    fresh = get_measure("weight_change")
    load_checkpoint(file, loaded, {"weight_change": fresh})

    want = _by_path(saved.variables)
    for variable in loaded.variables:
        np.testing.assert_array_equal(np.array(variable), want[variable.path])
    np.testing.assert_allclose(loaded.predict(X, verbose=0), saved.predict(X, verbose=0))
    # The tracker's per-weight state follows its weights too (distances differ from weight to weight).
    assert len({float(np.sum(a)) for a in measure.get_state()["distance"]}) == 4
    distance = dict(zip([v.path for v in saved.trainable_weights], measure.get_state()["distance"]))
    for variable, array in zip(loaded.trainable_weights, fresh.get_state()["distance"]):
        np.testing.assert_array_equal(array, distance[variable.path])
    # The optimizer's moments went to their own slots: one more identical step keeps both models equal.
    saved.fit(X, Y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(X, Y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    after = _by_path(saved.variables)
    for variable in loaded.variables:
        np.testing.assert_allclose(np.array(variable), after[variable.path], rtol=1e-6)


def test_a_model_that_does_not_fit_is_refused_naming_the_path(tmp_path, tiny_model):
    file = save_checkpoint(tmp_path / "r.csv", 0, 1, tiny_model, {})
    wider = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, name=tiny_model.layers[0].name)],
                             name=tiny_model.name)
    wider.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = [np.array(v) for v in wider.variables]
    kernel = tiny_model.layers[0].kernel.path
    with pytest.raises(CheckpointError, match=rf"Checkpoint {file} does not fit the model's variables; shapes "
                                              rf"differ: \['{kernel}: file \(3, 2\), model \(3, 4\)'"):
        load_checkpoint(file, wider, {})
    for variable, value in zip(wider.variables, before):
        np.testing.assert_array_equal(np.array(variable), value)


def test_a_checkpoint_keyed_by_position_still_loads(tmp_path, tiny_model):
    measure = get_measure("sign_flips")
    tiny_model.fit(X, Y[:, :2], epochs=2, batch_size=4, verbose=0, shuffle=False, callbacks=measure.callbacks())
    old = {f"model/{i}": np.array(v) for i, v in enumerate(tiny_model.variables)}  # the layout before paths
    old.update({f"optimizer/{i}": np.array(v) for i, v in enumerate(tiny_model.optimizer.variables)})
    for key, values in measure.get_state().items():
        old.update({f"measure/sign_flips/{key}/{i}": np.array(a) for i, a in enumerate(values)})
    file = paths.checkpoint_file(tmp_path / "r.csv", 0, 2)
    file.parent.mkdir(parents=True)
    with open(file, "wb") as handle:
        np.savez(handle, **old)

    fresh_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    fresh_model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    fresh = get_measure("sign_flips")
    load_checkpoint(file, fresh_model, {"sign_flips": fresh})
    for variable, value in zip(fresh_model.variables + fresh_model.optimizer.variables,
                               list(tiny_model.variables) + list(tiny_model.optimizer.variables)):
        np.testing.assert_array_equal(np.array(variable), np.array(value))
    for got, want in zip(fresh.get_state()["flips"], measure.get_state()["flips"]):
        np.testing.assert_array_equal(got, want)
    assert int(np.array(fresh_model.optimizer.iterations)) == 4


def test_capture_keys_every_variable_by_its_path(tiny_model):
    arrays = state.capture(tiny_model, {})
    assert [k for k in arrays if k.startswith("model/")] == [f"model/{v.path}" for v in tiny_model.variables]
    assert [k for k in arrays if k.startswith("optimizer/")] == [f"optimizer/{v.path}"
                                                                 for v in tiny_model.optimizer.variables]


def test_replacing_a_configuration_removes_checkpoints_and_saved_importances(tmp_path, tiny_model):
    results = tmp_path / "r.csv"
    save_checkpoint(results, 0, 1, tiny_model, {})
    leftover = paths.checkpoint_dir(results, 0) / ".epoch_2.npz.4242.0a1b2c3d.tmp"
    leftover.write_bytes(b"half")
    importances = paths.importances_file(results, 0, 1, "fisher")
    importances.parent.mkdir(parents=True)
    importances.write_bytes(b"npz")
    (importances.parent / ".fisher.npz.4242.0a1b2c3d.tmp").write_bytes(b"half")
    notes = paths.checkpoint_dir(results, 0) / "notes.txt"
    notes.write_text("mine")

    assert remove_checkpoints(results) == 4
    assert not paths.importances_root(results).exists()
    assert sorted(p.name for p in paths.checkpoint_dir(results, 0).iterdir()) == ["notes.txt"]
