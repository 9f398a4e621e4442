import keras
import numpy as np
import pytest

import Tasks


def _arrays(num_examples=24, num_classes=3):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(num_examples, 5))
    y = np.arange(num_examples) % num_classes
    return x, y


def _build(seed):
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])


def test_make_task_with_user_arrays_converts_dtypes_and_compiles_the_model():
    train, validation = _arrays(), _arrays(9)
    task = Tasks.make_task("mine", train, validation, _build, Tasks.classification_loss(), 3, batch_size=8, seed=2)
    assert task.train[0].dtype == np.float32 and task.train[1].dtype == np.int64
    assert task.validation[0].shape == (9, 5)
    assert task.model.compiled and task.model.optimizer is not None
    assert task.name == "mine" and task.batch_size == 8 and task.seed == 2 and task.is_classification
    again = Tasks.make_task("mine", train, validation, _build, Tasks.classification_loss(), 3, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(task.model.get_weights(), again.model.get_weights()))
    history = task.model.fit(*task.train, batch_size=task.batch_size, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_make_task_keeps_a_model_the_builder_compiled():
    def build_compiled(seed):
        model = _build(seed)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss=Tasks.classification_loss())
        return model

    task = Tasks.make_task("mine", _arrays(), _arrays(), build_compiled, Tasks.classification_loss(), 3)
    assert isinstance(task.model.optimizer, keras.optimizers.SGD)


def test_make_task_regression_targets_are_float32():
    x, _ = _arrays()
    task = Tasks.make_task("curve", (x, x[:, :1]), (x, x[:, :1]), _build, Tasks.regression_loss(), None)
    assert task.num_classes is None and not task.is_classification
    assert task.train[1].dtype == np.float32


@pytest.mark.parametrize(
    "change, message",
    [
        ({"num_classes": 2}, "must lie in"),
        ({"num_classes": 0}, "num_classes"),
        ({"batch_size": 0}, "batch_size"),
        ({"seed": -1}, "seed"),
        ({"train": (np.zeros((3, 5)), np.zeros(2))}, "as many x as y"),
        ({"train": np.zeros((3, 5))}, r"\(x, y\) pair"),
        ({"name": ""}, "name"),
    ],
)
def test_make_task_rejects_bad_arguments(change, message):
    arguments = dict(
        name="mine", train=_arrays(), validation=_arrays(), build_model=_build,
        loss=Tasks.classification_loss(), num_classes=3,
    )
    arguments.update(change)
    with pytest.raises(ValueError, match=message):
        Tasks.make_task(**arguments)


def test_make_task_rejects_a_loss_that_is_not_a_keras_loss():
    with pytest.raises(TypeError, match="keras.losses.Loss"):
        Tasks.make_task("mine", _arrays(), _arrays(), _build, "mse", 3)


def test_builder_must_return_a_keras_model():
    with pytest.raises(TypeError, match="keras.Model"):
        Tasks.make_task("mine", _arrays(), _arrays(), lambda seed: None, Tasks.classification_loss(), 3)


def test_repr_summarises_the_arrays():
    task = Tasks.make_task("mine", _arrays(), _arrays(9), _build, Tasks.classification_loss(), 3)
    assert repr(task).startswith("Task(name='mine', train=(x (24, 5) float32, y (24,) int64), validation=(x (9, 5)")
