"""Loss and accuracy of a model on fixed examples at the cost of compiled forward passes.

The examples are held as tensors in large batches and evaluated by one compiled function on the model's own
variables, so a model whose variables were just assigned in place (a thresholded model, a model after training a
task) is evaluated with no clone, no compile and no ``evaluate`` call. One compiled function
(``compiled_sums``) can serve several ``Evaluator`` objects of the same model, e.g. one per task of a sequence.

Accuracy is the share of examples whose predicted class is the true class (``correct_predictions``):

- K outputs: the predicted class is the argmax of the outputs (logits or probabilities alike); the true class is
  the class id, or the argmax of a row of class probabilities (one-hot or soft labels);
- 1 output (binary): the predicted class is 1 where the output z > 0 for logits or p > 0.5 for probabilities (read
  from the loss's ``from_logits``), else 0; the true class is 1 where the target is above 0.5.

Ties go to the lower class, as argmax breaks them (z = 0, p = 0.5 predict class 0).

``Evaluator.batches`` gives the per-example losses and hits batch by batch, for a caller that stops early (the
thresholding grid's ``validation_precision``, ``Experiment.budget``); ``order_seed`` puts the examples in a seeded
order first, so that a prefix of them is a random sample.
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
    from_logits = loss.get_config().get("from_logits")

    @tf.function(reduce_retracing=True)
    def sums(x, y):
        outputs = model(x, training=False)
        total_loss = tf.reduce_sum(tf.cast(loss.call(y, outputs), tf.float64))
        if classification:
            correct = tf.reduce_sum(tf.cast(correct_predictions(outputs, y, from_logits, loss), tf.float64))
        else:
            correct = tf.constant(0.0, tf.float64)
        return total_loss, correct

    return sums


def compiled_example_losses(model: keras.Model, loss: keras.losses.Loss, classification: bool = True):
    """A compiled ``(x, y) -> (per-example losses, per-example hits)``, both float64 ``[batch]``, inference mode
    (hits are 1.0 where the predicted class is the true one; zeros for regression)."""
    from_logits = loss.get_config().get("from_logits")

    @tf.function(reduce_retracing=True)
    def per_example(x, y):
        outputs = model(x, training=False)
        losses = tf.cast(loss.call(y, outputs), tf.float64)
        if classification:
            hits = tf.cast(correct_predictions(outputs, y, from_logits, loss), tf.float64)
        else:
            hits = tf.zeros_like(losses)
        return losses, hits

    return per_example


def correct_predictions(outputs: tf.Tensor, y: tf.Tensor, from_logits: bool | None,
                        loss: keras.losses.Loss | None = None) -> tf.Tensor:
    """Whether each example's predicted class is its true class (module docstring), a boolean ``[batch]``.

    The rule is chosen from the static shapes when traced: ``outputs`` ``[batch, K]`` or ``[batch, 1]``, ``y``
    class ids ``[batch]`` or rows ``[batch, K]``. ``from_logits`` is needed for one output only.
    """
    if outputs.shape[-1] == 1:
        if from_logits is None:
            raise ValueError(f"The model has one output, so it is a binary classifier, but its loss "
                             f"{type(loss).__name__ if loss is not None else ''} does not say whether that output is "
                             "a logit or a probability (from_logits): use BinaryCrossentropy(from_logits=...).")
        threshold = tf.constant(0.0 if from_logits else 0.5, outputs.dtype)
        predicted = tf.reshape(outputs, [-1]) > threshold
        return tf.equal(predicted, tf.reshape(tf.cast(y, outputs.dtype), [-1]) > 0.5)
    predicted = tf.argmax(outputs, axis=-1, output_type=tf.int64)
    if y.shape.rank == outputs.shape.rank and y.shape[-1] != 1:
        target = tf.argmax(y, axis=-1, output_type=tf.int64)
    else:
        target = tf.cast(y, tf.int64) if y.shape.rank == 1 else tf.reshape(tf.cast(y, tf.int64), [-1])
    return tf.equal(predicted, target)


class Evaluator:
    """Mean loss (and accuracy for classification) of ``model`` on ``(x, y)``, in inference mode.

    ``sums``: a function from ``compiled_sums`` to share with other evaluators of the same model and loss.
    ``order_seed``: None keeps the examples' order; an integer evaluates them in the order of a permutation drawn
    with it (``numpy.random.default_rng(order_seed)``), the same for every call.
    """

    def __init__(self, model: keras.Model, loss: keras.losses.Loss, data: tuple[np.ndarray, np.ndarray],
                 batch_size: int = 1024, classification: bool = True, sums=None, order_seed: int | None = None):
        x, y = data
        if order_seed is not None:
            order = np.random.default_rng(order_seed).permutation(len(x))
            x, y = x[order], y[order]
        self.num_examples = len(x)
        self.classification = classification
        self.batch_size = batch_size
        self._model, self._loss = model, loss
        self._per_example = None
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

    def batches(self):
        """Per batch, in order: ``(losses, hits)``, float64 arrays of its examples' losses and correct predictions
        (hits are NaN for regression); the caller may stop early, and the batches not asked for are not evaluated."""
        if self._per_example is None:
            self._per_example = compiled_example_losses(self._model, self._loss, self.classification)
        for x, y in self._batches:
            losses, hits = self._per_example(x, y)
            hits = hits.numpy() if self.classification else np.full(len(x), np.nan)
            yield losses.numpy(), hits
