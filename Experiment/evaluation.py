"""Loss and accuracy of a model on fixed examples at the cost of compiled forward passes.

The examples are held as tensors in large batches and evaluated by one compiled function per batch shape on the
model's own variables, so a thresholded model is evaluated right after its variables are assigned in place: no
clone, no compile, no ``evaluate`` call per threshold.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf


class Evaluator:
    """Mean loss (and accuracy for classification) of ``model`` on ``(x, y)``, in inference mode."""

    def __init__(self, model: keras.Model, loss: keras.losses.Loss, data: tuple[np.ndarray, np.ndarray],
                 batch_size: int = 1024, classification: bool = True):
        x, y = data
        self.num_examples = len(x)
        self.classification = classification
        self._batches = [
            (tf.constant(x[start:start + batch_size]), tf.constant(y[start:start + batch_size]))
            for start in range(0, len(x), batch_size)
        ]

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

        self._sums = sums

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
