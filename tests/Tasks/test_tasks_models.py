"""The ``model`` option: models by name, with the defaults of the built-in tasks unchanged."""

import keras
import numpy as np
import pytest

import Tasks
from Tasks import cifar10, digits, fashion_mnist, iris, mnist, models

MODEL_OPTION_MODULES = {"cifar10": cifar10, "digits": digits, "fashion_mnist": fashion_mnist, "iris": iris,
                        "mnist": mnist}


def _weights(build, seed=3):
    keras.utils.set_random_seed(seed)
    return build().get_weights()


def _same(weights, other):
    return len(weights) == len(other) and all(np.array_equal(a, b) for a, b in zip(weights, other))


def _original_digits_cnn():
    """The digits model as it was before the ``model`` option, written out here independently of Tasks.models."""

    def block(filters):
        return [keras.layers.Conv2D(filters, 3, padding="same"), keras.layers.BatchNormalization(momentum=0.9),
                keras.layers.Activation("relu")]

    return keras.Sequential([
        keras.Input((8, 8, 1)), *block(16), keras.layers.MaxPooling2D(), *block(32), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dropout(0.25), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10),
    ])


def test_default_digits_model_is_unchanged_and_is_the_cnn_option():
    default = Tasks.get_task("digits", seed=3)
    named = Tasks.get_task("digits", seed=3, model="cnn")
    assert _same(default.model.get_weights(), named.model.get_weights())
    assert _same(default.model.get_weights(), _weights(_original_digits_cnn))
    assert [type(layer) for layer in default.model.layers] == [type(layer) for layer in _original_digits_cnn().layers]


def test_default_iris_model_is_unchanged():
    def original():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                                 keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)])

    task = Tasks.get_task("iris", seed=3)
    assert _same(task.model.get_weights(), _weights(original))
    assert task.learning_rate == iris.LEARNING_RATE


def test_mlp_is_flatten_two_dense_100_relu_and_logits():
    task = Tasks.get_task("digits", seed=0, model="mlp")
    layers = task.model.layers
    assert [type(layer) for layer in layers] == [keras.layers.Flatten] + [keras.layers.Dense] * 3
    assert [layer.units for layer in layers[1:]] == [100, 100, 10]
    assert [layer.activation for layer in layers[1:]] == [keras.activations.relu] * 2 + [keras.activations.linear]
    assert task.model.count_params() == (64 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)
    assert isinstance(task.model.optimizer, keras.optimizers.Adam)
    assert float(task.model.optimizer.learning_rate) == pytest.approx(1e-3)
    history = task.model.fit(*task.train, batch_size=task.batch_size, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("spec, widths", [("mlp:256,256", [256, 256]), ("mlp:64", [64]), ("mlp: 32, 8 ,4", [32, 8, 4])])
def test_mlp_widths(spec, widths):
    model = Tasks.build_named_model(spec, (28, 28, 1), 10)
    assert [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)] == widths + [10]
    assert models.parse_model_spec(spec) == ("mlp", tuple(widths))


def test_mlp_of_vectors_has_no_flatten():
    model = Tasks.build_named_model("mlp", (4,), 3)
    assert [type(layer) for layer in model.layers] == [keras.layers.Dense] * 3


@pytest.mark.parametrize("spec", ["resnet", "mlp:", "mlp:0", "mlp:a,b", "mlp:-1", "mlp:32,", "cnn:3", "MLP", "", None])
def test_bad_spec_names_it_and_the_valid_forms(spec):
    with pytest.raises(ValueError, match="Unknown model") as error:
        Tasks.build_named_model(spec, (8, 8, 1), 10)
    for form in ("'cnn'", "'small_cnn'", "'four_conv_cnn'", "'original_cnn'", "'mlp'", "'mlp:<units>,<units>,...'"):
        assert form in str(error.value)
    assert repr(spec) in str(error.value)
    with pytest.raises(ValueError, match="Unknown model"):
        Tasks.get_task("digits", model=spec)


def test_convolutional_models_need_images_big_enough():
    with pytest.raises(ValueError, match="at least 16 pixels"):
        Tasks.get_task("digits", model="four_conv_cnn")
    with pytest.raises(ValueError, match="needs \\(height, width, channels\\) images"):
        Tasks.get_task("iris", model="cnn")


def test_every_valid_spec_builds_for_every_task_with_a_model_option():
    for name, module in MODEL_OPTION_MODULES.items():
        images = len(module.INPUT_SHAPE) == 3
        specs = ["mlp", "mlp:8,8"] + (["cnn", "small_cnn"] if images else [])
        specs += ["four_conv_cnn", "original_cnn"] if images and module.INPUT_SHAPE[0] >= 16 else []
        for spec in specs:
            model = module.build_model(0, model=spec)
            assert model.input_shape == (None, *module.INPUT_SHAPE), (name, spec)
            assert model.output_shape == (None, module.NUM_CLASSES), (name, spec)
    assert {spec.partition(":")[0] for spec in Tasks.MODEL_CHOICES} == {"cnn", "small_cnn", "four_conv_cnn",
                                                                        "original_cnn", "mlp"}


def test_large_images_are_averaged_down_before_the_cnn():
    model = Tasks.build_named_model("cnn", (200, 130, 3), 4)
    pooling = model.layers[0]
    assert isinstance(pooling, keras.layers.AveragePooling2D) and tuple(pooling.pool_size) == (4, 4)
    assert model.output_shape == (None, 4)
    small = Tasks.build_named_model("small_cnn", (64, 64, 3), 4)
    assert isinstance(small.layers[0], keras.layers.Conv2D)


def test_original_cnn_is_the_original_toolkits_final_experiment_model_layer_for_layer():
    model = Tasks.build_named_model("original_cnn", (28, 28, 1), 10)
    described = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            described.append(("conv", layer.filters, tuple(layer.kernel_size), layer.padding,
                              layer.activation.__name__))
        elif isinstance(layer, keras.layers.Dense):
            described.append(("dense", layer.units, layer.activation.__name__))
        elif isinstance(layer, keras.layers.BatchNormalization):
            described.append(("bn", layer.momentum, layer.epsilon))
        elif isinstance(layer, keras.layers.Dropout):
            described.append(("dropout", layer.rate))
        else:
            described.append((type(layer).__name__,) + ((tuple(layer.pool_size),) if hasattr(layer, "pool_size")
                                                        else ()))
    conv = [("conv", 32, (3, 3), "valid", "relu")] * 2, [("conv", 64, (3, 3), "valid", "relu")] * 2
    assert described == [
        *conv[0], ("bn", 0.99, 0.001), ("MaxPooling2D", (2, 2)),
        *conv[1], ("bn", 0.99, 0.001), ("MaxPooling2D", (2, 2)),
        ("Flatten",), ("dense", 64, "relu"), ("dropout", 0.2), ("dense", 64, "relu"), ("dropout", 0.2),
        ("dense", 10, "linear"),
    ]
    # by hand: convolutions 320 + 9248 + 18496 + 36928, BN 4 x (32 + 64) of which 2 x 96 moving statistics,
    # dense (4*4*64)*64 + 64 = 65600, 64*64 + 64 = 4160, 64*10 + 10 = 650
    assert model.count_params() == 135786
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 135786 - 192
    assert model.output_shape == (None, 10)
    with pytest.raises(ValueError, match="at least 16 pixels"):
        Tasks.get_task("digits", model="original_cnn")
