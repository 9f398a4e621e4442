"""folder:PATH tasks on small folders of PNGs the tests write: each image is filled with its own grey value, so
every loaded array can be traced back to the file it came from."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import Tasks
from Tasks import image_folder

CLASSES = ("sea", "forest", "glacier")  # sorted: forest 0, glacier 1, sea 2
SORTED = tuple(sorted(CLASSES))
SIZE = (16, 12)


def _value(class_index: int, number: int, split: str) -> int:
    """A grey value unique to (class, image number, split)."""
    return 10 + 60 * class_index + 4 * number + (2 if split == "validation" else 0)


def write_images(folder, counts: dict[str, int], split: str = "train", size=SIZE, channels: int = 1) -> None:
    for class_index, class_name in enumerate(CLASSES):
        (folder / class_name).mkdir(parents=True, exist_ok=True)
        for number in range(counts[class_name]):
            image = np.full((*size, channels), _value(class_index, number, split), np.uint8)
            (folder / class_name / f"img_{number:02d}.png").write_bytes(tf.io.encode_png(image).numpy())


def _class_of_value(split: str) -> dict[int, int]:
    """Grey value -> class id (in sorted class order) of every image written for ``split``."""
    return {_value(i, n, split): SORTED.index(name) for i, name in enumerate(CLASSES) for n in range(20)}


def _values(x: np.ndarray) -> np.ndarray:
    """The grey value of each loaded image (all its pixels hold it)."""
    values = np.round(x[:, 0, 0, 0] * 255).astype(int)
    assert np.array_equal(x, np.broadcast_to((values / 255.0).astype(np.float32)[:, None, None, None], x.shape))
    return values


def _check_labels(split, split_name: str) -> None:
    x, y = split
    mapping = _class_of_value(split_name)
    assert [mapping[v] for v in _values(x)] == y.tolist()


@pytest.fixture
def seg_layout(tmp_path):
    """The Intel Natural Scenes layout: seg_train/seg_train/<class>, seg_test/seg_test/<class>, seg_pred."""
    root = tmp_path / "intel"
    write_images(root / "seg_train" / "seg_train", {"sea": 4, "forest": 3, "glacier": 5})
    write_images(root / "seg_test" / "seg_test", {"sea": 2, "forest": 2, "glacier": 1}, split="validation")
    (root / "seg_pred" / "seg_pred").mkdir(parents=True)
    return root


def test_the_seg_train_seg_test_layout_reads_as_it_is(seg_layout):
    task = Tasks.get_task(f"folder:{seg_layout}", color_mode="grayscale")
    assert task.name == f"folder:{seg_layout}" and task.class_names == SORTED and task.num_classes == 3
    (x_train, y_train), (x_validation, y_validation) = task.train, task.validation
    assert x_train.shape == (12, *SIZE, 1) and x_validation.shape == (5, *SIZE, 1) and x_train.dtype == np.float32
    assert np.bincount(y_train).tolist() == [3, 5, 4] and np.bincount(y_validation).tolist() == [2, 1, 2]
    _check_labels(task.train, "train")
    _check_labels(task.validation, "validation")
    assert len(set(_values(x_train))) == 12  # every file once
    assert y_train.tolist() != sorted(y_train.tolist())  # a seeded order, not class by class
    assert task.model.output_shape == (None, 3) and task.model.input_shape == (None, *SIZE, 1)


def test_train_and_validation_folders_without_nesting(tmp_path):
    write_images(tmp_path / "train", {"sea": 2, "forest": 2, "glacier": 2})
    write_images(tmp_path / "validation", {"sea": 1, "forest": 1, "glacier": 1}, split="validation")
    task = Tasks.get_task(f"folder:{tmp_path}", color_mode="grayscale", model="mlp:8")
    assert len(task.train[1]) == 6 and len(task.validation[1]) == 3
    _check_labels(task.validation, "validation")


def test_a_single_folder_is_split_stratified_and_seeded(tmp_path):
    write_images(tmp_path, {"sea": 8, "forest": 8, "glacier": 8})
    task = Tasks.get_task(f"folder:{tmp_path}", color_mode="grayscale", validation_fraction=0.25)
    assert np.bincount(task.validation[1]).tolist() == [2, 2, 2] and np.bincount(task.train[1]).tolist() == [6] * 3
    train, validation = set(_values(task.train[0])), set(_values(task.validation[0]))
    assert not train & validation and len(train | validation) == 24
    _check_labels(task.train, "train")
    again = Tasks.get_task(f"folder:{tmp_path}", seed=5, color_mode="grayscale", validation_fraction=0.25)
    assert np.array_equal(again.validation[0], task.validation[0])  # the split does not depend on the task seed
    other = Tasks.get_task(f"folder:{tmp_path}", color_mode="grayscale", validation_fraction=0.25, split_seed=1)
    assert set(_values(other.validation[0])) != validation
    default = Tasks.get_task(f"folder:{tmp_path}", color_mode="grayscale")
    assert len(default.validation[1]) == 5 and set(default.validation[1]) == {0, 1, 2}  # 0.2 of 24, rounded up


def test_validation_fraction_splits_the_training_folder_of_a_split_layout(seg_layout):
    task = Tasks.get_task(f"folder:{seg_layout}", color_mode="grayscale", validation_fraction=0.25)
    assert len(task.train[1]) + len(task.validation[1]) == 12
    _check_labels(task.validation, "train")


def test_labels_caps_image_size_and_colour_mode(seg_layout):
    task = Tasks.get_task(f"folder:{seg_layout}", labels=["sea", 0], num_train_examples=5,
                          num_validation_examples=3, image_size=(8, 6))
    assert set(task.train[1]) <= {0, 2} and len(task.train[1]) == 5 and len(task.validation[1]) == 3
    assert task.train[0].shape == (5, 8, 6, 3) and task.num_classes == 3  # ids unchanged
    # a constant image stays constant when resized, and grayscale becomes three equal channels
    assert np.array_equal(task.train[0][..., 0], task.train[0][..., 2])
    values = np.round(task.train[0][:, 0, 0, 0] * 255).astype(int)
    mapping = _class_of_value("train")
    assert [mapping[v] for v in values] == task.train[1].tolist()
    full = Tasks.get_task(f"folder:{seg_layout}", labels=[0, 2])
    assert task.train[1].tolist() == full.train[1][:5].tolist()  # the cap keeps the first of the seeded order


def test_images_of_other_sizes_are_resized_to_the_first_ones(tmp_path):
    write_images(tmp_path, {"sea": 3, "forest": 3, "glacier": 3})
    write_images(tmp_path / "glacier", {"sea": 1, "forest": 0, "glacier": 0}, size=(20, 20), channels=3)
    task = Tasks.get_task(f"folder:{tmp_path}", validation_fraction=0.3)  # glacier/sea/img_00.png is 20x20 RGB
    assert task.train[0].shape[1:] == (*SIZE, 3) and len(task.train[1]) + len(task.validation[1]) == 10


@pytest.mark.parametrize(
    "make, options, message",
    [
        (lambda root: root / "missing", {}, "does not exist"),
        (lambda root: (root / "file.png").write_bytes(b"x") and root / "file.png", {}, "is not a folder"),
        (lambda root: (root / "empty").mkdir() or root / "empty", {}, "holds no class sub-folders"),
        (lambda root: (root / "a" / "sea").mkdir(parents=True) or root / "a", {}, "holds no images"),
        (lambda root: root, {"color_mode": "cmyk"}, "Unknown color_mode 'cmyk'; valid: \\['grayscale'"),
        (lambda root: root, {"validation_fraction": 1.5}, "validation_fraction must be a fraction"),
        (lambda root: root, {"labels": ["ocean"]}, "Valid: 0 \\(forest\\), 1 \\(glacier\\), 2 \\(sea\\)"),
        (lambda root: root, {"image_size": [0, 4]}, "image_size"),
        (lambda root: root, {"model": "resnet"}, "Unknown model"),
        (lambda root: root, {"validation_fraction": 0.01}, "Cannot hold out a stratified validation_fraction"),
    ],
)
def test_bad_paths_and_options_say_what_is_wrong(tmp_path, make, options, message):
    write_images(tmp_path, {"sea": 4, "forest": 4, "glacier": 4})
    with pytest.raises(ValueError, match=message):
        Tasks.get_task(f"folder:{make(tmp_path)}", **options)


def test_a_validation_class_the_training_folder_lacks_and_an_unreadable_image_are_named(seg_layout):
    (seg_layout / "seg_test" / "seg_test" / "desert").mkdir()
    with pytest.raises(ValueError, match="has classes \\['desert'\\] that the training folder"):
        Tasks.get_task(f"folder:{seg_layout}")
    (seg_layout / "seg_test" / "seg_test" / "desert").rmdir()
    bad = seg_layout / "seg_train" / "seg_train" / "sea" / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ValueError, match="broken.png"):
        Tasks.get_task(f"folder:{seg_layout}")


def test_the_folder_task_works_wherever_a_task_string_does(seg_layout):
    name = f"folder:{seg_layout}"
    assert Tasks.is_task_name(name) and not Tasks.is_task_name(f"folder:{seg_layout}/nothing")
    assert Tasks.task_options(name) == ["image_size", "color_mode", "validation_fraction", "split_seed",
                                        "num_train_examples", "num_validation_examples", "labels", "batch_size",
                                        "model", "augmentation"]
    Tasks.check_task_options(name, {"image_size": [8, 8]})
    with pytest.raises(ValueError, match="valid options"):
        Tasks.check_task_options(name, {"colour": "red"})
    with pytest.raises(ValueError, match="names no folder"):
        Tasks.get_task("folder:")
    with pytest.raises(ValueError, match="folder:PATH"):
        Tasks.get_task("nope")


def test_run_experiment_on_a_folder_runs_and_resumes(seg_layout, tmp_path, monkeypatch):
    from Experiment import ExperimentConfig, expected_keys, run_experiment

    options = {"color_mode": "grayscale", "image_size": (16, 12), "augmentation": {"zoom": 0.1}}
    config = ExperimentConfig(task=f"folder:{seg_layout}", task_options=options, epochs=1, measures=["magnitude"],
                              aggregation_levels=["weight", "filter"], num_thresholds=3,
                              results_csv=str(tmp_path / "folder.csv"), progress=False)
    run_experiment(config)
    rows = pd.read_csv(config.results_csv)
    assert len(rows) == len(expected_keys(config, 0, 1)) and set(rows.task) == {f"folder:{seg_layout}"}
    recorded = json.loads((tmp_path / "folder.json").read_text())
    assert recorded["task"] == f"folder:{seg_layout}"
    assert recorded["task_options"] == {"color_mode": "grayscale", "image_size": [16, 12],
                                        "augmentation": {"zoom": 0.1}}
    written = (tmp_path / "folder.csv").read_bytes()

    def no_loading(*args, **kwargs):
        raise AssertionError("a complete run read its images again")

    monkeypatch.setattr(image_folder, "load_data", no_loading)
    run_experiment(ExperimentConfig(**{**config.to_dict(), "task_options": dict(options)}))
    assert (tmp_path / "folder.csv").read_bytes() == written
