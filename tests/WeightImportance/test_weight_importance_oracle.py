"""The oracle (actual loss increase when a group is zeroed) by hand, its groups (the caller's: Aggregation's here),
and the oracle correlation table of Experiment/oracle.py on a small model trained on sklearn's digits."""

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits

import Aggregation
from Experiment.oracle import oracle_correlation, post_training_measures
from WeightImportance import get_measure, measure_class


def oracle(**options):
    """The oracle as a runner builds it: grouped by Aggregation's groups of its level."""
    measure = get_measure("oracle", **options)
    measure.set_grouping(Aggregation.group_ids)
    return measure


def mlp(seed=0):
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)])
    for variable in model.trainable_weights:
        variable.assign(rng.normal(size=tuple(variable.shape)).astype(np.float32))
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def mlp_data(seed=1, n=23):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.integers(0, 3, size=n)


def hand_loss(weights, x, y):
    W1, b1, W2, b2 = (np.asarray(w, np.float64) for w in weights)
    logits = np.maximum(x @ W1 + b1, 0) @ W2 + b2
    logits -= logits.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(len(y)), y]))


def test_unit_oracle_zeroes_a_units_incoming_weights_and_bias():
    model = mlp()
    x, y = mlp_data()
    weights = [np.array(w, np.float64) for w in model.trainable_weights]
    base = hand_loss(weights, x, y)
    got = oracle(batch_size=10).compute(model, (x, y))
    for kernel, bias in ((0, 1), (2, 3)):
        for j in range(weights[bias].size):
            removed = [w.copy() for w in weights]
            removed[kernel][:, j] = 0
            removed[bias][j] = 0
            increase = hand_loss(removed, x, y) - base
            np.testing.assert_allclose(got[kernel][:, j], increase, rtol=1e-4, atol=2e-6)
            np.testing.assert_allclose(got[bias][j], increase, rtol=1e-4, atol=2e-6)
    for before, after in zip(weights, model.trainable_weights):
        np.testing.assert_array_equal(before.astype(np.float32), np.array(after))


def test_weight_and_layer_oracles_by_hand():
    model = mlp()
    x, y = mlp_data()
    weights = [np.array(w, np.float64) for w in model.trainable_weights]
    base = hand_loss(weights, x, y)
    per_weight = get_measure("oracle", level="weight").compute(model, (x, y))
    for t, w in enumerate(weights):
        for index in np.ndindex(w.shape):
            removed = [v.copy() for v in weights]
            removed[t][index] = 0
            assert per_weight[t][index] == pytest.approx(hand_loss(removed, x, y) - base, rel=1e-4, abs=2e-6)
    per_layer = oracle(level="layer").compute(model, (x, y))
    for kernel, bias in ((0, 1), (2, 3)):
        removed = [v.copy() for v in weights]
        removed[kernel][:] = 0
        removed[bias][:] = 0
        np.testing.assert_allclose(per_layer[kernel], hand_loss(removed, x, y) - base, rtol=1e-4, atol=2e-6)
        np.testing.assert_allclose(per_layer[bias], hand_loss(removed, x, y) - base, rtol=1e-4, atol=2e-6)


@pytest.mark.parametrize("level", ["unit", "weight", "layer"])
def test_oracle_groups_are_aggregations_groups(level, tiny_cnn, tiny_data):
    """The oracle removes exactly the groups its grouping gives (Aggregation's of its level: conv filter + bias, BN
    channel's gamma + beta, Dense unit + bias), with one oracle value per group."""
    calls = []

    def grouping(model, asked_level):
        calls.append((model, asked_level))
        return Aggregation.group_ids(model, asked_level)

    measure = get_measure("oracle", level=level)
    measure.set_grouping(grouping)
    values = np.concatenate([o.ravel() for o in measure.compute(tiny_cnn, tiny_data)])
    assert calls == [(tiny_cnn, level)]
    ranking = Aggregation.rank_groups(tiny_cnn, [np.zeros(w.shape) for w in tiny_cnn.trainable_weights], level=level)
    ids = np.concatenate([i.ravel() for i in ranking.group_ids])
    assert len(set(zip(ids.tolist(), values.tolist()))) == ranking.num_groups  # one value per group


def test_weight_level_needs_no_grouping_and_equals_aggregations_weight_groups(tiny_cnn, tiny_data):
    alone = get_measure("oracle", level="weight").compute(tiny_cnn, tiny_data)
    grouped = oracle(level="weight").compute(tiny_cnn, tiny_data)
    for a, b in zip(alone, grouped):
        np.testing.assert_array_equal(a, b)


def test_any_grouping_the_caller_gives_by_hand():
    """The oracle knows no layers: a grouping of its caller's (here the first layer's kernel column j with the
    second layer's bias entry j) is what it zeroes."""
    model = mlp()
    x, y = mlp_data()
    weights = [np.array(w, np.float64) for w in model.trainable_weights]
    base = hand_loss(weights, x, y)

    def pairs(model, level):
        kernel, bias, kernel2, bias2 = (tuple(w.shape) for w in model.trainable_weights)
        ids = [np.broadcast_to(np.arange(4) % 3, kernel), np.full(bias, 3), np.full(kernel2, 3), np.arange(3)]
        return [np.array(i) for i in ids], 4

    measure = get_measure("oracle")
    measure.set_grouping(pairs)
    got = measure.compute(model, (x, y))
    for j in range(3):
        removed = [w.copy() for w in weights]
        removed[0][:, np.arange(4) % 3 == j] = 0
        removed[3][j] = 0
        np.testing.assert_allclose(got[3][j], hand_loss(removed, x, y) - base, rtol=1e-4, atol=2e-6)
    removed = [w.copy() for w in weights]
    removed[1][:], removed[2][:] = 0, 0
    np.testing.assert_allclose(got[1], hand_loss(removed, x, y) - base, rtol=1e-4, atol=2e-6)


def test_the_one_line_call_from_a_notebook(tiny_cnn, tiny_data):
    import WeightImportance
    from WeightImportance import get_measure

    model, data = tiny_cnn, tiny_data
    importances = get_measure("oracle").set_grouping(Aggregation.group_ids).compute(model, data)
    for got, want in zip(importances, oracle().compute(model, data)):
        np.testing.assert_array_equal(got, want)
    # The error without a grouping quotes that line, with the level where it is not the default.
    with pytest.raises(ValueError) as error:
        WeightImportance.get_measure("oracle").compute(model, data)
    assert 'get_measure("oracle").set_grouping(Aggregation.group_ids).compute(model, data)' in str(error.value)
    with pytest.raises(ValueError) as error:
        WeightImportance.get_measure("oracle", level="layer").compute(model, data)
    line = 'get_measure("oracle", level="layer").set_grouping(Aggregation.group_ids).compute(model, data)'
    assert line in str(error.value)
    layer = get_measure("oracle", level="layer").set_grouping(Aggregation.group_ids).compute(model, data)  # = line
    assert len(layer) == len(model.trainable_weights)


def test_grouped_levels_without_a_grouping_say_what_to_call(tiny_cnn, tiny_data):
    assert measure_class("oracle").needs_groups
    for level in ("unit", "layer"):
        with pytest.raises(ValueError, match=r"level='%s'.*set_grouping\(Aggregation.group_ids\)" % level):
            get_measure("oracle", level=level).compute(tiny_cnn, tiny_data)
    with pytest.raises(TypeError, match="set_grouping needs a function"):
        get_measure("oracle").set_grouping(Aggregation.group_ids(tiny_cnn, "unit"))
    measure = get_measure("oracle")
    measure.set_grouping(lambda model, level: ([np.zeros(w.shape, np.int64) for w in model.trainable_weights[1:]], 1))
    with pytest.raises(ValueError, match="one per model.trainable_weights entry"):
        measure.compute(tiny_cnn, tiny_data)
    measure.set_grouping(lambda model, level: ([np.full(w.shape, 2) for w in model.trainable_weights], 2))
    with pytest.raises(ValueError, match=r"in \[0, num_groups=2\)"):
        measure.compute(tiny_cnn, tiny_data)


def test_oracle_options_and_limits(tiny_cnn, tiny_data):
    with pytest.raises(ValueError, match="Unknown level 'filter'.*unit.*weight.*layer"):
        get_measure("oracle", level="filter")
    with pytest.raises(ValueError, match="Unknown replacement 'noise'.*zero"):
        get_measure("oracle", replacement="noise")
    with pytest.raises(ValueError, match="51 for this model, above max_groups=50"):
        get_measure("oracle", level="weight", max_groups=50).compute(tiny_cnn, tiny_data)
    with pytest.raises(ValueError, match="needs data"):
        oracle().compute(tiny_cnn)


def test_oracle_correlation_table_on_a_small_digits_model():
    digits = load_digits()
    x, y = (digits.data / 16).astype(np.float32), digits.target.astype(np.int64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    si = get_measure("si")
    model.fit(x[:1000], y[:1000], batch_size=50, epochs=3, verbose=0, callbacks=si.callbacks())
    measures = {name: name for name in post_training_measures()} | {"si": si}
    before = [np.array(v) for v in model.weights]
    table = oracle_correlation(model, (x[1400:1600], y[1400:1600]), measures=measures,
                               measure_options={"obd": {"hessian": "hutchinson", "num_probes": 8}})
    for b, a in zip(before, model.weights):
        np.testing.assert_array_equal(b, np.array(a))
    assert list(table.columns) == ["measure", "spearman", "p_value", "num_groups"]
    assert set(table["measure"]) == set(measures) and "oracle" in set(table["measure"])
    assert not {"sign_flips", "weight_change", "si", "movement"} & set(post_training_measures())
    assert (table["num_groups"] == 16 + 10).all()
    assert table["spearman"].is_monotonic_decreasing
    scores = table.set_index("measure")["spearman"]
    assert scores["oracle"] == pytest.approx(1.0)
    assert scores["magnitude"] > 0
    assert scores["magnitude"] > scores["inverse_magnitude"]
