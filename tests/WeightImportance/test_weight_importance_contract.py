"""Every registered measure meets the one contract, declares what it needs truthfully, never changes the model,
and fails loudly on bad input."""

import keras
import numpy as np
import pytest

import Aggregation
import WeightImportance
from WeightImportance import available_measures, get_measure, measure_class, measure_options


def _trained_measure(name, model, data):
    """The measure as a runner uses it: grouped by Aggregation where it needs groups, trained with its callbacks."""
    measure = get_measure(name)
    if measure.needs_groups:
        measure.set_grouping(Aggregation.group_ids)
    x, y = data
    model.fit(x, y, batch_size=5, epochs=1, verbose=0, callbacks=measure.callbacks(), shuffle=False)
    return measure


def _state(model):
    return [np.array(v) for v in model.weights]


@pytest.mark.parametrize("name", available_measures())
def test_every_measure_meets_the_contract(name, tiny_cnn, tiny_data):
    measure = _trained_measure(name, tiny_cnn, tiny_data)
    assert measure.name == name
    before = _state(tiny_cnn)
    importances = measure.compute(tiny_cnn, tiny_data)
    after = _state(tiny_cnn)
    assert len(importances) == len(tiny_cnn.trainable_weights)
    for array, weight in zip(importances, tiny_cnn.trainable_weights):
        assert isinstance(array, np.ndarray)
        assert array.shape == tuple(weight.shape)
        assert np.all(np.isfinite(array))
    # Computing a measure never changes the model: weights and BatchNormalization statistics alike.
    for b, a in zip(before, after):
        np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("name", available_measures())
def test_measure_state_round_trips(name, tiny_cnn, tiny_data):
    measure = _trained_measure(name, tiny_cnn, tiny_data)
    state = measure.get_state()
    copy = get_measure(name)
    copy.set_state(state)
    for key, arrays in state.items():
        for a, b in zip(arrays, copy.get_state()[key]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", available_measures())
def test_declarations_match_behaviour(name, tiny_cnn, tiny_data):
    """needs_training, needs_seed, needs_data and needs_groups say what the measure does (read from the class)."""
    cls = measure_class(name)
    assert cls is WeightImportance.registered_measures[name]
    for attribute in ("needs_data", "needs_training", "needs_seed", "needs_groups"):
        assert isinstance(getattr(cls, attribute), bool), attribute
    assert cls.needs_training == bool(get_measure(name).callbacks())
    assert cls.needs_seed == ("seed" in measure_options(name))
    measure = _trained_measure(name, tiny_cnn, tiny_data)
    if cls.needs_data:
        with pytest.raises(ValueError, match="needs data"):
            measure.compute(tiny_cnn, None)
    else:
        for without, given in zip(measure.compute(tiny_cnn, None), measure.compute(tiny_cnn, tiny_data)):
            np.testing.assert_array_equal(without, given)
    if cls.needs_groups:
        with pytest.raises(ValueError, match=r"set_grouping\(Aggregation.group_ids\)"):
            get_measure(name).compute(tiny_cnn, tiny_data)
    else:
        with pytest.raises(ValueError, match="takes no grouping"):
            get_measure(name).set_grouping(Aggregation.group_ids)


def test_declared_needs_of_the_original_measures():
    data_free = {"random", "magnitude", "inverse_magnitude", "lamp", "synflow"}
    training = {"sign_flips", "momentum_changes", "weight_change", "si", "movement", "magnitude_increase"}
    assert {n for n in available_measures() if measure_class(n).needs_training} == training
    assert {n for n in available_measures() if not measure_class(n).needs_data} == data_free | training
    assert {n for n in available_measures() if measure_class(n).needs_seed} == {"random", "fisher", "obd"}
    assert {n for n in available_measures() if measure_class(n).needs_groups} == {"oracle"}
    with pytest.raises(ValueError, match=r"Unknown measure 'fischer'.*fisher"):
        measure_class("fischer")


def test_registry_has_the_original_measures():
    assert {"random", "magnitude", "inverse_magnitude", "fisher", "sign_flips", "momentum_changes",
            "weight_change"} <= set(available_measures())
    for name in available_measures():
        assert WeightImportance.registered_measures[name].name == name


def test_unknown_measure_names_the_value_and_the_choices():
    with pytest.raises(ValueError, match=r"Unknown measure 'fischer'.*fisher.*magnitude"):
        get_measure("fischer")


def test_unknown_option_lists_valid_options():
    with pytest.raises(ValueError, match=r"Unknown option\(s\) \['sead'\].*'random'.*seed"):
        get_measure("random", sead=1)
    with pytest.raises(ValueError, match="Unknown labels 'true'.*data.*sampled"):
        get_measure("fisher", labels="true")


@pytest.mark.parametrize("name", ["sign_flips", "momentum_changes", "weight_change"])
def test_training_measure_without_training_says_what_to_do(name, tiny_cnn):
    with pytest.raises(RuntimeError, match=r"callbacks\(\) to model.fit"):
        get_measure(name).compute(tiny_cnn)


def test_model_without_trainable_weights_is_an_error():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="no trainable weights"):
        get_measure("magnitude").compute(model)


def test_data_measure_without_data_is_an_error(tiny_cnn):
    with pytest.raises(ValueError, match="needs data"):
        get_measure("fisher").compute(tiny_cnn, None)


def test_random_is_reproducible_and_seeded(tiny_cnn):
    a = get_measure("random", seed=3).compute(tiny_cnn)
    b = get_measure("random", seed=3).compute(tiny_cnn)
    c = get_measure("random", seed=4).compute(tiny_cnn)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)


def test_magnitude_and_inverse(tiny_cnn):
    weights = [np.array(w) for w in tiny_cnn.trainable_weights]
    weights[-1][0] = 0.0
    tiny_cnn.trainable_weights[-1].assign(weights[-1])
    magnitude = get_measure("magnitude").compute(tiny_cnn)
    inverse = get_measure("inverse_magnitude", epsilon=1e-6).compute(tiny_cnn)
    for w, m, i in zip(weights, magnitude, inverse):
        np.testing.assert_allclose(m, np.abs(w))
        np.testing.assert_allclose(i, 1.0 / np.maximum(np.abs(w.astype(np.float64)), 1e-6))
    assert inverse[-1][0] == pytest.approx(1e6)
