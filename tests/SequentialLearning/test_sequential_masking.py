"""Task-incremental output masking, and the split and permuted sequences built from Tasks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import Tasks
from SequentialLearning import MASKED_LOGIT, ewc_model, get_sequence


def test_logits_of_other_classes_cannot_win(tiny_model, tiny_data):
    x, _ = tiny_data
    kernel, bias = (np.array(w) for w in tiny_model.trainable_weights)
    bias[3] = 1e6  # class 3 wins every example unmasked
    tiny_model.trainable_weights[1].assign(bias)
    model = ewc_model(tiny_model)
    assert set(np.argmax(model(x, training=False), axis=1)) == {3}

    model.set_classes([0, 1])
    assert model.classes == [0, 1]
    logits = np.array(model(x, training=False))
    assert set(np.argmax(logits, axis=1)) <= {0, 1}
    assert np.all(logits[:, 2:] == MASKED_LOGIT)
    probabilities = np.array(tf.nn.softmax(logits))
    assert np.all(probabilities[:, 2:] == 0.0)

    y = np.array([0, 1, 1, 0, 1])
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        loss = loss_function(y, model(x, training=True))
    gradient = tape.gradient(loss, model.trainable_weights)
    assert np.isfinite(float(loss))
    assert np.all(np.array(gradient[1])[2:] == 0.0) and np.all(np.array(gradient[0])[:, 2:] == 0.0)

    model.set_classes(None)
    assert model.classes is None
    with pytest.raises(ValueError, match="class ids"):
        model.set_classes([0, 7])


def test_split_sequence_keeps_original_labels_and_restricts_classes():
    halves = get_sequence("split", "digits", seed=0)
    assert [task.classes for task in halves] == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    for task in halves:
        for _, y in (task.train, task.validation):
            assert set(np.unique(y)) == set(task.classes)
    pairs = get_sequence("split", "digits", seed=0, num_tasks=5)
    assert [task.classes for task in pairs] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    custom = get_sequence("split", "digits", splits=[[3, 1], [7]])
    assert [task.classes for task in custom] == [[3, 1], [7]]
    with pytest.raises(ValueError, match="disjoint"):
        get_sequence("split", "digits", splits=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="valid sequences"):
        get_sequence("rotated", "digits")


def test_permuted_sequence_permutes_pixels_the_same_way_in_train_and_validation():
    sequence = get_sequence("permuted", "digits", seed=3, num_tasks=3)
    original = Tasks.get_task("digits", seed=3)
    assert all(task.classes is None for task in sequence)
    np.testing.assert_array_equal(sequence[0].train[0], original.train[0])  # task 0: the original pixel order
    for index in (1, 2):
        permutation = np.random.default_rng([3, index]).permutation(64)
        for split, original_split in ((sequence[index].train, original.train),
                                      (sequence[index].validation, original.validation)):
            np.testing.assert_array_equal(split[1], original_split[1])
            flat = original_split[0].reshape(len(original_split[0]), 64)
            np.testing.assert_array_equal(split[0].reshape(len(split[0]), 64), flat[:, permutation])
    assert not np.array_equal(sequence[1].train[0], sequence[2].train[0])
    np.testing.assert_array_equal(get_sequence("permuted", "digits", seed=3, num_tasks=3)[2].validation[0],
                                  sequence[2].validation[0])
