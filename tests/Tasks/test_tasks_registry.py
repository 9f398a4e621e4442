import keras
import numpy as np
import pytest

import Tasks
from Tasks import cifar10, digits, fashion_mnist, function_approximation, iris, mnist

MODULES = {
    "cifar10": cifar10,
    "digits": digits,
    "fashion_mnist": fashion_mnist,
    "function_approximation": function_approximation,
    "iris": iris,
    "mnist": mnist,
}


def test_available_tasks_lists_every_registered_task_sorted():
    assert Tasks.available_tasks() == ["cifar10", "digits", "fashion_mnist", "function_approximation", "iris", "mnist"]
    assert Tasks.DEFAULT_TASK in Tasks.available_tasks()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_registry_key_matches_module_name(name):
    assert MODULES[name].NAME == name
    assert Tasks.TASKS[name] is MODULES[name].build_task


def test_unknown_task_names_the_bad_value_and_the_valid_ones():
    with pytest.raises(ValueError, match="'digitz'") as error:
        Tasks.get_task("digitz")
    for name in Tasks.available_tasks():
        assert name in str(error.value)


def test_unknown_option_lists_the_valid_options():
    with pytest.raises(ValueError, match="'colour'") as error:
        Tasks.get_task("digits", colour="red")
    assert "labels" in str(error.value) and "batch_size" in str(error.value)


def test_task_options():
    assert Tasks.task_options("digits") == ["labels", "batch_size", "model", "augmentation"]
    assert Tasks.task_options("fashion_mnist") == ["labels", "batch_size", "data_dir", "model", "augmentation"]
    assert Tasks.task_options("iris") == ["labels", "batch_size", "model"]
    assert Tasks.task_options("function_approximation") == ["batch_size"]
    with pytest.raises(ValueError, match="valid tasks"):
        Tasks.task_options("nope")


def test_labels_option_keeps_only_those_classes_with_their_original_values():
    full = Tasks.get_task("digits")
    task = Tasks.get_task("digits", labels=[3, 7])
    for (x, y), (_, y_full) in zip((task.train, task.validation), (full.train, full.validation)):
        assert set(np.unique(y)) == {3, 7}
        assert len(y) == np.isin(y_full, [3, 7]).sum() == len(x)
        assert y.dtype == np.int64
    assert task.num_classes == 10
    assert task.model.output_shape == (None, 10)


@pytest.mark.parametrize("labels", [[3, 10], [-1], [], ["a"], 3, [True]])
def test_bad_labels_raise_and_list_the_valid_labels(labels):
    with pytest.raises(ValueError, match=r"\[0, 1, 2\]"):
        Tasks.get_task("iris", labels=labels)


def test_regression_task_has_no_labels_option():
    with pytest.raises(ValueError, match="valid options"):
        Tasks.get_task("function_approximation", labels=[0])


def _dummy_split(module, num_examples=4):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(num_examples, *module.INPUT_SHAPE)).astype(np.float32)
    if module.NUM_CLASSES is None:
        return x, rng.normal(size=(num_examples, 1)).astype(np.float32)
    return x, np.arange(num_examples) % module.NUM_CLASSES


@pytest.mark.parametrize("name", sorted(MODULES))
def test_default_models_are_compiled_output_logits_and_are_deterministic(name):
    module = MODULES[name]
    split = _dummy_split(module)
    loss = Tasks.classification_loss() if module.NUM_CLASSES else Tasks.regression_loss()
    task = Tasks.make_task(name, split, split, module.build_model, loss, module.NUM_CLASSES, seed=3)
    model = task.model
    assert model.compiled and model.optimizer is not None
    assert model.output_shape == (None, module.NUM_CLASSES or 1)
    assert model.layers[-1].activation is keras.activations.linear
    same = task.build_model(seed=3).get_weights()
    other = task.build_model(seed=4).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), same))
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other))
    if module.NUM_CLASSES is not None:
        assert any(isinstance(layer, keras.layers.Dense) for layer in model.layers)
    if len(module.INPUT_SHAPE) == 3:
        layer_types = {type(layer) for layer in model.layers}
        assert {
            keras.layers.Conv2D,
            keras.layers.BatchNormalization,
            keras.layers.MaxPooling2D,
            keras.layers.Dropout,
            keras.layers.Dense,
        } <= layer_types
        assert all(
            layer.momentum == 0.9 for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        )
