import keras
import numpy as np

import Tasks


def test_function_approximation_is_a_regression_that_learns():
    task = Tasks.get_task("function_approximation", seed=0)
    (x_train, y_train), (x_validation, y_validation) = task.train, task.validation
    assert task.num_classes is None and isinstance(task.loss, keras.losses.MeanSquaredError)
    assert x_train.shape == (512, 1) and y_train.shape == (512, 1) and x_validation.shape == (256, 1)
    assert x_train.dtype == y_train.dtype == np.float32
    assert -1.0 <= x_train.min() and x_train.max() <= 1.0
    assert np.abs(y_train - np.sin(3 * x_train)).max() < 0.3
    assert np.array_equal(y_validation, Tasks.get_task("function_approximation", seed=5).validation[1])
    task.model.fit(x_train, y_train, batch_size=task.batch_size, epochs=20, verbose=0)
    validation_loss = task.model.evaluate(x_validation, y_validation, verbose=0)
    assert isinstance(validation_loss, float) and validation_loss < 0.05


def test_iris_is_standardized_with_train_statistics_and_learns():
    task = Tasks.get_task("iris", seed=0)
    (x_train, y_train), (x_validation, _) = task.train, task.validation
    assert x_train.shape == (120, 4) and x_validation.shape == (30, 4)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    np.testing.assert_allclose(x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1.0, atol=1e-5)
    assert np.bincount(y_train).tolist() == [40, 40, 40]
    task.model.fit(x_train, y_train, batch_size=task.batch_size, epochs=20, verbose=0)
    _, accuracy = task.model.evaluate(*task.validation, verbose=0)
    assert accuracy >= 0.9
