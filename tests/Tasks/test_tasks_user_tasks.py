"""Tasks from the user's own code: ``"module:function"`` entry points and names registered at run time."""

import importlib
import pickle
import sys

import keras
import numpy as np
import pytest

import Tasks

MODULE = "user_task_module"
MODULE_SOURCE = '''
import keras
import numpy as np

import Tasks


def build_model(seed):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="tanh"), keras.layers.Dense(2)])


def build_task(seed=0, num_examples=20, batch_size=5):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(num_examples, 4))
    y = (x[:, 0] > 0).astype(int)
    return Tasks.make_task("my_blobs", (x, y), (x[:8], y[:8]), build_model, Tasks.classification_loss(), 2,
                           batch_size, seed)


def build_any(seed=0, **options):
    return build_task(seed, **options)


def not_a_task(seed=0):
    return "a string"


def no_seed(num_examples=3):
    return build_task(0, num_examples)


NOT_CALLABLE = 3


class Builders:
    @staticmethod
    def build(seed=0):
        return build_task(seed)
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """``user_task_module.py`` in a folder on sys.path, as in the working directory; and a module that imports a
    package that does not exist."""
    (tmp_path / f"{MODULE}.py").write_text(MODULE_SOURCE)
    (tmp_path / "broken_user_module.py").write_text("import no_such_package_xyz\n\ndef build_task(seed=0):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in (MODULE, "broken_user_module"):
        sys.modules.pop(name, None)
    yield MODULE
    for name in (MODULE, "broken_user_module"):
        sys.modules.pop(name, None)


@pytest.fixture
def registered():
    """Forget every task a test registers."""
    yield
    for name in Tasks.registered_tasks():
        Tasks.unregister_task(name)


def test_entry_point_builds_the_users_task_with_the_users_model(user_module):
    task = Tasks.get_task(f"{user_module}:build_task", seed=1, num_examples=30)
    assert task.name == "my_blobs" and task.num_classes == 2 and task.batch_size == 5
    assert task.train[0].shape == (30, 4) and task.train[1].dtype == np.int64
    assert [type(layer) for layer in task.model.layers] == [keras.layers.Dense, keras.layers.Dense]
    assert task.model.layers[0].activation is keras.activations.tanh
    again = Tasks.get_task(f"{user_module}:build_task", seed=1, num_examples=30)
    assert all(np.array_equal(a, b) for a, b in zip(task.model.get_weights(), again.model.get_weights()))
    history = task.model.fit(*task.train, batch_size=task.batch_size, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_entry_point_options_are_the_keyword_parameters(user_module):
    assert Tasks.task_options(f"{user_module}:build_task") == ["num_examples", "batch_size"]
    with pytest.raises(ValueError, match="'colour'") as error:
        Tasks.get_task(f"{user_module}:build_task", colour="red")
    assert "num_examples" in str(error.value)
    Tasks.check_task_options(f"{user_module}:build_task", {"num_examples": 5})


def test_a_function_with_kwargs_accepts_any_option(user_module):
    name = f"{user_module}:build_any"
    assert Tasks.task_options(name) == []
    Tasks.check_task_options(name, {"anything": 1})
    assert len(Tasks.get_task(name, num_examples=12).train[0]) == 12


def test_resolve_task_function_returns_the_users_function_and_dotted_attributes_work(user_module):
    assert Tasks.resolve_task_function(f"{user_module}:build_task") is sys.modules[user_module].build_task
    assert Tasks.get_task(f"{user_module}:Builders.build").name == "my_blobs"
    assert Tasks.resolve_task_function("digits") is Tasks.TASKS["digits"]


@pytest.mark.parametrize(
    "attribute, error_type, message",
    [
        ("missing", ValueError, r"has no attribute 'missing'.*'build_task'"),
        ("NOT_CALLABLE", TypeError, "not callable"),
        ("no_seed", TypeError, "must take a seed keyword"),
    ],
)
def test_bad_entry_points_say_what_is_wrong(user_module, attribute, error_type, message):
    with pytest.raises(error_type, match=message):
        Tasks.get_task(f"{user_module}:{attribute}")
    assert not Tasks.is_task_name(f"{user_module}:{attribute}")


def test_a_function_that_returns_no_task_is_refused(user_module):
    with pytest.raises(TypeError, match="returned str; it must return a Tasks.Task"):
        Tasks.get_task(f"{user_module}:not_a_task")


def test_a_module_that_cannot_be_found_says_it_must_be_importable(user_module):
    with pytest.raises(ImportError, match="must be importable on sys.path") as error:
        Tasks.get_task("no_such_user_module_xyz:build_task")
    assert "working directory" in str(error.value) and "installed" in str(error.value)
    assert not Tasks.is_task_name("no_such_user_module_xyz:build_task")


def test_an_import_error_inside_the_users_module_is_not_hidden(user_module):
    with pytest.raises(ModuleNotFoundError, match="no_such_package_xyz"):
        Tasks.get_task("broken_user_module:build_task")


@pytest.mark.parametrize("name", ["digitz", "a:b:c", "module:", ":function", "my module:build", 3])
def test_malformed_or_unknown_names(name):
    with pytest.raises(ValueError, match="Unknown task") as error:
        Tasks.resolve_task_function(name)
    assert "'my_package.my_module:build_task'" in str(error.value) and "'tfds:NAME'" in str(error.value)
    assert not Tasks.is_task_name(name)


def test_is_task_name(user_module, registered):
    assert Tasks.is_task_name("digits")
    assert Tasks.is_task_name(f"{user_module}:build_task")
    assert not Tasks.is_task_name("mine")
    Tasks.register_task("mine", importlib.import_module(user_module).build_task)
    assert Tasks.is_task_name("mine")


def test_register_a_notebook_function(registered):
    def build_task(seed=0, *, scale=1.0):
        x = scale * np.linspace(-1, 1, 40).reshape(-1, 1)
        return Tasks.make_task("line", (x, 2 * x), (x, 2 * x), _dense_regression, Tasks.regression_loss(), None,
                               seed=seed)

    Tasks.register_task("line", build_task)
    assert "line" in Tasks.available_tasks() and set(Tasks.TASKS) < set(Tasks.available_tasks())
    assert Tasks.registered_tasks() == {"line": build_task}
    assert Tasks.task_options("line") == ["scale"]
    task = Tasks.get_task("line", seed=2, scale=3.0)
    assert task.name == "line" and task.seed == 2 and task.train[0].max() == pytest.approx(3.0)
    replacement = lambda seed=0: build_task(seed, scale=5.0)  # noqa: E731
    Tasks.register_task("line", replacement)
    assert Tasks.registered_tasks() == {"line": replacement}
    Tasks.unregister_task("line")
    assert "line" not in Tasks.available_tasks()
    with pytest.raises(ValueError, match="Unknown task 'line'"):
        Tasks.get_task("line")


def _dense_regression(seed):
    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])


@pytest.mark.parametrize(
    "name, function, error_type, message",
    [
        ("digits", lambda seed=0: None, ValueError, "built-in"),
        ("a:b", lambda seed=0: None, ValueError, "without ':'"),
        ("", lambda seed=0: None, ValueError, "non-empty"),
        ("mine", "not a function", TypeError, "not callable"),
        ("mine", lambda size=0: None, TypeError, "seed"),
    ],
)
def test_register_task_refuses(registered, name, function, error_type, message):
    with pytest.raises(error_type, match=message):
        Tasks.register_task(name, function)
    assert Tasks.registered_tasks() == {}


def test_registered_tasks_can_be_shipped_to_another_process_and_registered_there(user_module, registered):
    Tasks.register_task("blobs", importlib.import_module(user_module).build_task)
    shipped = pickle.dumps(Tasks.registered_tasks())
    Tasks.unregister_task("blobs")  # the worker starts without them
    for name, build_task in pickle.loads(shipped).items():
        Tasks.register_task(name, build_task)
    assert Tasks.get_task("blobs", seed=0, num_examples=10).train[0].shape == (10, 4)

