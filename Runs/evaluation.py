"""Loss and accuracy of a model on fixed examples at the cost of compiled forward passes.

The examples are held as tensors in large batches and evaluated by one compiled function on the model's own
variables, so a model whose variables were just assigned in place (a thresholded model, a model after training a
task) is evaluated with no clone, no compile and no ``evaluate`` call. One compiled function
(``compiled_sums``) can serve several ``Evaluator`` objects of the same model, e.g. one per task of a sequence.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf


def compiled_sums(model: keras.Model, loss: keras.losses.Loss, classification: bool = True):
    """A compiled ``(x, y) -> (sum of per-example losses, number correct)`` in float64, model in inference mode.

    Traced once per input shape; ``reduce_retracing`` makes later shapes share a generic trace.
    """

    @tf.function(reduce_retracing=True)
    def sums(x, y):
        outputs = model(x, training=False)
        total_loss = tf.reduce_sum(tf.cast(loss.call(y, outputs), tf.float64))
        if classification:
            predicted = tf.argmax(outputs, axis=-1, output_type=tf.int64)
            correct = tf.reduce_sum(tf.cast(tf.equal(predicted, tf.cast(y, tf.int64)), tf.float64))
        else:
            correct = tf.constant(0.0, tf.float64)
        return total_loss, correct

    return sums


class Evaluator:
    """Mean loss (and accuracy for classification) of ``model`` on ``(x, y)``, in inference mode.

    ``sums``: a function from ``compiled_sums`` to share with other evaluators of the same model and loss.
    """

    def __init__(self, model: keras.Model, loss: keras.losses.Loss, data: tuple[np.ndarray, np.ndarray],
                 batch_size: int = 1024, classification: bool = True, sums=None):
        x, y = data
        self.num_examples = len(x)
        self.classification = classification
        self._batches = [
            (tf.constant(x[start:start + batch_size]), tf.constant(y[start:start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]
        self._sums = sums if sums is not None else compiled_sums(model, loss, classification)

    def __call__(self) -> tuple[float, float]:
        """``(mean loss, accuracy)``; accuracy is NaN for regression and both are NaN with no examples."""
        if self.num_examples == 0:
            return math.nan, math.nan
        total_loss, correct = 0.0, 0.0
        for x, y in self._batches:
            batch_loss, batch_correct = self._sums(x, y)
            total_loss += float(batch_loss)
            correct += float(batch_correct)
        accuracy = correct / self.num_examples if self.classification else math.nan
        return total_loss / self.num_examples, accuracy
