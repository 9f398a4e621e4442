"""Arrays on disk (``Schema.arrays``): the write is atomic and durable (file fsynced, renamed, folder fsynced),
no temporary file outlives a failed or killed write, and loading matches by name, refusing what differs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from Schema.arrays import (ArrayFileError, automatic_names, load_arrays, match_arrays, remove_leftovers,
                           save_arrays, snake_case)

ROOT = Path(__file__).resolve().parents[2]


def _arrays():
    return {"net/dense/kernel": np.arange(6.0).reshape(3, 2), "net/dense/bias": np.array([0.5, -0.5])}


def test_arrays_round_trip_in_their_order(tmp_path):
    for compressed in (False, True):
        path = save_arrays(tmp_path / f"a{compressed}.npz", _arrays(), compressed=compressed)
        loaded = load_arrays(path)
        assert list(loaded) == list(_arrays())
        for name, value in _arrays().items():
            np.testing.assert_array_equal(loaded[name], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aFalse.npz", "aTrue.npz"]


def test_the_file_is_fsynced_before_the_rename_and_the_folder_after_it(tmp_path, monkeypatch):
    events, opened = [], {}
    real_open, real_fsync, real_replace = os.open, os.fsync, os.replace

    def recording_open(path, flags, *args, **kwargs):
        descriptor = real_open(path, flags, *args, **kwargs)
        opened[descriptor] = Path(path)
        return descriptor

    def recording_fsync(descriptor):
        name = opened.get(descriptor) or Path(os.readlink(f"/proc/self/fd/{descriptor}"))
        events.append(("fsync", name))
        return real_fsync(descriptor)

    def recording_replace(source, target):
        events.append(("replace", Path(target)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "open", recording_open)
    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    target = tmp_path / "state.npz"
    save_arrays(target, _arrays())
    assert [kind for kind, _ in events] == ["fsync", "replace", "fsync"]
    assert events[0][1].parent == tmp_path and events[0][1].name.startswith(".state.npz.")  # the temporary file
    assert events[1][1] == target
    assert events[2][1] == tmp_path  # the folder, so the rename survives a power loss


def test_a_failed_write_leaves_the_previous_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = save_arrays(tmp_path / "state.npz", _arrays())
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        save_arrays(target, {"other": np.zeros(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]
    assert list(load_arrays(target)) == list(_arrays())


CRASH = """
import os, sys
import numpy as np
from Schema.arrays import save_arrays
os.replace = lambda *args: os._exit(9)   # killed between writing and renaming: no cleanup runs
save_arrays(sys.argv[1], {"x": np.ones(3)})
"""


def test_a_killed_write_leaves_nothing_after_the_next_write(tmp_path):
    target = save_arrays(tmp_path / "state.npz", _arrays())
    crashed = subprocess.run([sys.executable, "-c", CRASH, str(target)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert crashed.returncode == 9
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".state.npz.")
    assert list(load_arrays(target)) == list(_arrays())  # the old file is whole
    # A temporary file of a process that still runs (pid 1) is another writer's: the next write keeps it.
    running = tmp_path / ".state.npz.1.0a1b2c3d.tmp"
    running.write_bytes(b"")
    save_arrays(target, {"x": np.zeros(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".state.npz.1.0a1b2c3d.tmp", "state.npz"])
    np.testing.assert_array_equal(load_arrays(target)["x"], np.zeros(3))
    assert remove_leftovers(tmp_path, "state.npz") == 1  # where one process owns the folder: all of them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.npz"]


def test_a_damaged_file_is_an_error_naming_it(tmp_path):
    target = save_arrays(tmp_path / "state.npz", _arrays())
    target.write_bytes(target.read_bytes()[:-50])
    with pytest.raises(ArrayFileError, match=rf"{target} cannot be read \("):
        load_arrays(target)


def test_arrays_are_matched_by_name_and_a_mismatch_names_every_difference():
    saved = {"net/a/kernel": np.zeros((3, 2)), "net/b/kernel": np.ones((3, 2)), "net/c/bias": np.zeros(2)}
    expected = [("net/b/kernel", (3, 2)), ("net/a/kernel", (3, 2)), ("net/c/bias", (2,))]
    got = match_arrays(saved, expected, what="x")
    assert [float(a.sum()) for a in got] == [6.0, 0.0, 0.0]  # by name, not by position
    with pytest.raises(ValueError) as error:
        match_arrays(saved, [("net/a/kernel", (3, 4)), ("net/b/kernel", (3, 2)), ("net/d/bias", (2,))],
                     what="Checkpoint f.npz does not fit")
    assert str(error.value) == ("Checkpoint f.npz does not fit; missing from the file: ['net/d/bias']; in the file "
                                "but not in the model: ['net/c/bias']; shapes differ: ['net/a/kernel: file (3, 2), "
                                "model (3, 4)'].")


def test_automatic_numbers_are_matched_and_names_the_user_chose_are_not():
    automatic = automatic_names([("sequential_1", "Sequential"), ("dense_2", "Dense"), ("dense_3", "Dense"),
                                 ("adam_1", "Adam"), ("block_1", "Dense")])
    assert automatic == {"sequential_1": {"sequential"}, "dense_2": {"dense"}, "dense_3": {"dense"},
                         "adam_1": {"adam"}}
    saved = {"sequential/dense/kernel": np.zeros((3, 2)), "sequential/dense_1/kernel": np.ones((2, 2)),
             "adam/sequential_dense_kernel_momentum": np.full((3, 2), 2.0)}
    expected = [("sequential_1/dense_2/kernel", (3, 2)), ("sequential_1/dense_3/kernel", (2, 2)),
                ("adam_1/sequential_1_dense_2_kernel_momentum", (3, 2))]
    got = match_arrays(saved, expected, automatic, what="x")
    assert [float(a.sum()) for a in got] == [0.0, 4.0, 12.0]
    # Another order: one to one by name up to the numbers.
    reordered = {"adam/left_momentum": np.zeros(2), "adam/right_momentum": np.ones(2)}
    got = match_arrays(reordered, [("adam_1/right_momentum", (2,)), ("adam_1/left_momentum", (2,))],
                       {"adam_1": {"adam"}}, what="x")
    assert [float(a.sum()) for a in got] == [2.0, 0.0]
    # block_1 is a name the user chose: block_2 is another layer, not block_1 renumbered.
    with pytest.raises(ValueError, match=r"missing from the file: \['net/block_1/kernel'\]; in the file but not in "
                                         r"the model: \['net/block_2/kernel'\]"):
        match_arrays({"net/block_2/kernel": np.zeros(2)}, [("net/block_1/kernel", (2,))], automatic, what="x")


def test_snake_case_names_as_keras_does():
    assert [snake_case(n) for n in ("BatchNormalization", "Conv2D", "Dense", "SeedGenerator")] == [
        "batch_normalization", "conv2d", "dense", "seed_generator"]


def test_the_module_loads_no_tensorflow_or_keras():
    code = ("import sys, Schema.arrays; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    output = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PATH": ""}).stdout
    assert output.strip().splitlines()[-1] == "[]"
