"""The model's predictive distribution p(y | x, w), read from the loss the model was compiled with.

Classification models output logits (``SparseCategoricalCrossentropy(from_logits=True)``) or probabilities
(``from_logits=False``); regression models trained with mean squared error are read as a Gaussian with unit
variance, log p(y | x) = -1/2 ||y - f(x)||^2 + const. ``likelihood`` options name these explicitly.
"""

from __future__ import annotations

import keras
import tensorflow as tf

LIKELIHOODS = ("auto", "categorical", "gaussian")


def compiled_loss(model: keras.Model):
    """The loss function ``model`` was compiled with (None if it has none); one loss for one output only."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError("Models with several outputs or losses are not supported by this measure.")
    return keras.losses.get(loss)


def infer_likelihood(model: keras.Model, likelihood: str = "auto") -> tuple[str, bool]:
    """``(kind, from_logits)`` with kind "categorical" or "gaussian"."""
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"Unknown likelihood {likelihood!r}; valid: {list(LIKELIHOODS)}.")
    loss = compiled_loss(model)
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    name = (config.get("name") or getattr(loss, "__name__", "") or "").lower()
    from_logits = bool(config.get("from_logits", True))
    if likelihood == "gaussian":
        return "gaussian", False
    if likelihood == "categorical":
        return "categorical", from_logits
    if "categorical_crossentropy" in name:
        return "categorical", from_logits
    if "mean_squared_error" in name or name == "mse":
        return "gaussian", False
    raise ValueError(
        f"Cannot tell the model's likelihood from its loss {name or loss!r}: compile it with "
        "SparseCategoricalCrossentropy or MeanSquaredError, or pass likelihood='categorical' or 'gaussian'."
    )


def log_probabilities(outputs: tf.Tensor, from_logits: bool) -> tf.Tensor:
    if from_logits:
        return tf.nn.log_softmax(outputs, axis=-1)
    return tf.math.log(tf.clip_by_value(outputs, 1e-12, 1.0))


def log_likelihood(kind: str, from_logits: bool, outputs: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Sum over the batch of log p(y_n | x_n) (up to an additive constant for the Gaussian)."""
    if kind == "categorical":
        log_p = log_probabilities(outputs, from_logits)
        labels = tf.reshape(tf.cast(y, tf.int32), [-1])
        return tf.reduce_sum(tf.gather(log_p, labels, axis=-1, batch_dims=1))
    y = tf.reshape(tf.cast(y, outputs.dtype), tf.shape(outputs))
    return -0.5 * tf.reduce_sum(tf.square(y - outputs))


def sample_labels(kind: str, from_logits: bool, outputs: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Labels drawn from the model's own predictive distribution (stateless, from a [2] int seed)."""
    if kind == "categorical":
        log_p = log_probabilities(outputs, from_logits)
        return tf.random.stateless_categorical(log_p, 1, seed=seed, dtype=tf.int64)[:, 0]
    return outputs + tf.random.stateless_normal(tf.shape(outputs), seed=seed, dtype=outputs.dtype)


def loss_objective(model: keras.Model):
    """The model's compiled loss on one example, as an objective for per-example gradients."""
    loss = compiled_loss(model)
    if loss is None:
        raise ValueError(f"Model {model.name!r} is not compiled with a loss; compile it first.")

    def objective(model, x, y):
        return loss(y, model(x, training=False))

    return objective
