import numpy as np

import Tasks


def test_shapes_dtypes_and_fixed_stratified_split():
    task = Tasks.get_task("digits", seed=0)
    other_seed = Tasks.get_task("digits", seed=1)
    (x_train, y_train), (x_validation, y_validation) = task.train, task.validation
    assert x_train.shape == (1437, 8, 8, 1) and x_validation.shape == (360, 8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 <= x_train.min() and x_train.max() == 1.0
    assert np.array_equal(x_train, other_seed.train[0]) and np.array_equal(y_validation, other_seed.validation[1])
    counts = np.bincount(y_validation, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert task.num_classes == 10 and task.batch_size == 32 and task.seed == 0
    assert isinstance(task.loss, type(Tasks.classification_loss()))
    assert task.loss.get_config()["from_logits"]


def test_default_model_reaches_95_percent_validation_accuracy_in_5_epochs():
    task = Tasks.get_task("digits", seed=0)
    task.model.fit(*task.train, batch_size=32, epochs=5, verbose=0)
    _, accuracy = task.model.evaluate(*task.validation, batch_size=256, verbose=0)
    assert accuracy >= 0.95
