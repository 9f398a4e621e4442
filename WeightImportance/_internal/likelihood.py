"""The model's loss, and the predictive distribution p(y | x, w) read from it.

Four Keras losses are read, as loss objects or as the strings Keras accepts for them (a string means the loss with
Keras' defaults, e.g. ``"sparse_categorical_crossentropy"`` is ``SparseCategoricalCrossentropy()``, which expects
probabilities):

- ``SparseCategoricalCrossentropy`` (targets: class ids) and ``CategoricalCrossentropy`` (targets: one row of class
  probabilities per example, one-hot or soft labels q): a categorical distribution, softmax(z) for logits z
  (``from_logits=True``) or the model's probabilities, clipped to [1e-12, 1] before the log.
  log p(y | x) = log p_y for a class id y; for a row q, ``log_likelihood`` gives sum_k q_k log p_k, the expected
  log-likelihood under q (what the loss computes; one-hot q gives log p_y again).
- ``BinaryCrossentropy``: every output j an independent Bernoulli with p_j = sigmoid(z_j) (or the model's
  probability, clipped to [ε, 1 - ε] with ε = ``keras.config.epsilon()`` as Keras does), targets y_j in [0, 1]:
  log p(y | x) = sum_j [y_j log p_j + (1 - y_j) log(1 - p_j)] (with logits, -sigmoid_cross_entropy_with_logits,
  which is stable).
- ``MeanSquaredError`` (``"mse"``): a Gaussian with unit variance, log p(y | x) = -1/2 ||y - f(x)||^2 + const.

The gradient of ``log_likelihood`` is the score for a hard label (class id, 0/1 targets, a Gaussian target). For a
label *distribution* (soft rows q, soft binary targets) it is the score's expectation E_q ∇ log p, and its square
(E_q ∇ log p)² is not the Fisher under q, E_q (∇ log p)² (it is 0 when q is the model's own prediction): the
Fisher squares scores of single labels, as ``_internal/fisher_terms.py`` derives and computes (the Fisher's
"data" estimator with label rows or soft binary targets, and its "exact" one). ``log_likelihood`` with label
distributions serves only where a loss's own gradient is meant (the "batched" estimator, which differentiates the
mean loss of a mini-batch, and the first term of the binary Fisher).

Label smoothing, ``ignore_class`` and an ``axis`` other than -1 change what the loss means, so the likelihood of
such a loss is refused (the loss-based measures, which call the loss itself, accept them). Targets are checked
against the model's outputs batch by batch (``target_check``), so a class id out of range or a label of the wrong
shape is an error that says so, not a failure deep in a compiled graph.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

LIKELIHOODS = ("auto", "categorical", "binary", "gaussian")

# Keras' function name of each loss read here -> (its loss class, likelihood kind, targets are class ids).
READABLE_LOSSES = {
    "sparse_categorical_crossentropy": (keras.losses.SparseCategoricalCrossentropy, "categorical", True),
    "categorical_crossentropy": (keras.losses.CategoricalCrossentropy, "categorical", False),
    "binary_crossentropy": (keras.losses.BinaryCrossentropy, "binary", False),
    "mean_squared_error": (keras.losses.MeanSquaredError, "gaussian", False),
}
SUPPORTED = ("SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy, MeanSquaredError (objects, "
             "or the strings 'sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', "
             "'mse'/'mean_squared_error')")


@dataclasses.dataclass(frozen=True)
class Likelihood:
    """p(y | x, w): ``kind`` "categorical", "binary" or "gaussian"; ``from_logits`` (categorical and binary: the
    model outputs logits, else probabilities); ``sparse`` (categorical: targets are class ids, else rows of class
    probabilities); ``loss`` and ``ignore_class``, read from the compiled loss, for target checks and messages."""

    kind: str
    from_logits: bool = True
    sparse: bool = True
    loss: str = dataclasses.field(default="", compare=False)
    ignore_class: int | None = dataclasses.field(default=None, compare=False)

    def of_sampled_labels(self) -> Likelihood:
        """The same distribution for the labels ``sample_labels`` draws (class ids for a categorical one)."""
        return dataclasses.replace(self, sparse=True) if self.kind == "categorical" else self


class _MeanOfFunction(keras.losses.Loss):
    """A loss function given as a string or function, averaged over the batch as Keras does when compiling it."""

    def __init__(self, function):
        super().__init__(name=getattr(function, "__name__", "loss"))
        self.function = function

    def call(self, y_true, y_pred):
        return self.function(y_true, y_pred)


def compiled_loss(model: keras.Model) -> keras.losses.Loss | None:
    """The loss ``model`` was compiled with, as a ``keras.losses.Loss`` that averages over the batch (None if it
    has none); one loss for one output only. A string or function becomes the loss object Keras would use."""
    loss = getattr(model, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError("Models with several outputs or losses are not supported by this measure.")
    if isinstance(loss, keras.losses.Loss):
        return loss
    function = keras.losses.get(loss)
    name = getattr(function, "__name__", "")
    if name in READABLE_LOSSES:
        return READABLE_LOSSES[name][0]()
    return _MeanOfFunction(function)


def _read(loss: keras.losses.Loss | None) -> tuple[str, Likelihood, dict] | None:
    """(Keras name, likelihood, config) of one of the ``READABLE_LOSSES`` (None for any other loss)."""
    for name, (cls, kind, sparse) in READABLE_LOSSES.items():
        if isinstance(loss, cls):
            config = loss.get_config()
            return name, Likelihood(kind, bool(config.get("from_logits", False)), sparse, name,
                                    config.get("ignore_class")), config
    return None


def loss_likelihood(model: keras.Model) -> Likelihood | None:
    """The likelihood of the model's compiled loss where it is one of ``READABLE_LOSSES`` (for target checks of
    the loss-based measures); None for any other loss or none."""
    read = _read(compiled_loss(model))
    return None if read is None else read[1]


def infer_likelihood(model: keras.Model, likelihood: str = "auto") -> Likelihood:
    """The model's likelihood: read from its compiled loss ("auto"), or the kind named by ``likelihood``
    (``from_logits`` and the target format still come from the loss where it says them; logits and class ids
    otherwise)."""
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"Unknown likelihood {likelihood!r}; valid: {list(LIKELIHOODS)}.")
    loss = compiled_loss(model)
    read = _read(loss)
    if likelihood == "auto":
        if read is None:
            raise ValueError(
                f"Cannot read the model's likelihood from its loss {_describe(model)}: supported losses are "
                f"{SUPPORTED}. Compile the model with one of them, or pass likelihood='categorical', 'binary' or "
                "'gaussian'."
            )
        name, found, config = read
        unsupported = {key: config[key] for key, default in (("label_smoothing", 0), ("axis", -1),
                                                             ("ignore_class", None))
                       if config.get(key, default) != default}
        if unsupported:
            raise ValueError(f"The likelihood of {name} with {unsupported} is not supported: compile the model "
                             "without these options, or pass likelihood='categorical', 'binary' or 'gaussian'.")
        return found
    if likelihood == "gaussian":
        return Likelihood("gaussian", False, False, "mean_squared_error")
    config = loss.get_config() if read is not None else {}
    from_logits = bool(config.get("from_logits", True))
    sparse = read[1].sparse if read is not None and read[1].kind == "categorical" else True
    return Likelihood(likelihood, from_logits, sparse, read[0] if read is not None else likelihood)


def _describe(model: keras.Model) -> str:
    loss = getattr(model, "loss", None)
    if loss is None:
        return "(the model is not compiled with a loss)"
    return repr(loss) if isinstance(loss, str) else type(loss).__name__


def log_probabilities(outputs: tf.Tensor, from_logits: bool) -> tf.Tensor:
    if from_logits:
        return tf.nn.log_softmax(outputs, axis=-1)
    return tf.math.log(tf.clip_by_value(outputs, 1e-12, 1.0))


def bernoulli_probabilities(outputs: tf.Tensor, from_logits: bool) -> tf.Tensor:
    if from_logits:
        return tf.sigmoid(outputs)
    epsilon = keras.config.epsilon()
    return tf.clip_by_value(outputs, epsilon, 1.0 - epsilon)


def log_likelihood(likelihood: Likelihood, outputs: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Sum over the batch of log p(y_n | x_n) (up to an additive constant for the Gaussian); for label rows q and
    soft binary targets the expected log-likelihood under them (see the module docstring for each kind)."""
    if likelihood.kind == "categorical":
        log_p = log_probabilities(outputs, likelihood.from_logits)
        if not likelihood.sparse:
            return tf.reduce_sum(tf.reshape(tf.cast(y, log_p.dtype), tf.shape(log_p)) * log_p)
        labels = tf.reshape(tf.cast(y, tf.int32), [-1])
        return tf.reduce_sum(tf.gather(log_p, labels, axis=-1, batch_dims=1))
    y = tf.reshape(tf.cast(y, outputs.dtype), tf.shape(outputs))
    if likelihood.kind == "binary":
        if likelihood.from_logits:
            return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=outputs))
        p = bernoulli_probabilities(outputs, False)
        return tf.reduce_sum(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p))
    return -0.5 * tf.reduce_sum(tf.square(y - outputs))


def sample_labels(likelihood: Likelihood, outputs: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Labels drawn from the model's own predictive distribution (stateless, from a [2] int seed), in the format
    of ``likelihood.of_sampled_labels()``: class ids, 0/1 per binary output, or real targets."""
    if likelihood.kind == "categorical":
        log_p = log_probabilities(outputs, likelihood.from_logits)
        return tf.random.stateless_categorical(log_p, 1, seed=seed, dtype=tf.int64)[:, 0]
    if likelihood.kind == "binary":
        p = bernoulli_probabilities(outputs, likelihood.from_logits)
        return tf.cast(tf.random.stateless_uniform(tf.shape(p), seed=seed, dtype=p.dtype) < p, p.dtype)
    return outputs + tf.random.stateless_normal(tf.shape(outputs), seed=seed, dtype=outputs.dtype)


def loss_objective(model: keras.Model):
    """The model's compiled loss on one example, as an objective for per-example gradients."""
    loss = compiled_loss(model)
    if loss is None:
        raise ValueError(f"Model {model.name!r} is not compiled with a loss; compile it first.")

    def objective(model, x, y):
        return loss(y, model(x, training=False))

    return objective


def check_targets(likelihood: Likelihood, y, num_examples: int, output_shape: tuple[int, ...]) -> None:
    """A clear ``ValueError`` when the targets ``y`` of ``num_examples`` examples do not fit ``likelihood`` and
    the model's per-example ``output_shape``."""
    y = np.asarray(y)
    width = int(np.prod(output_shape, dtype=np.int64))
    loss = likelihood.loss or likelihood.kind
    if likelihood.kind == "categorical" and likelihood.sparse:
        classes = output_shape[-1] if output_shape else 1
        if y.size != num_examples:
            raise ValueError(f"{loss} expects one integer class id per example; got targets of shape {y.shape} for "
                             f"{num_examples} examples (one-hot or soft labels need categorical_crossentropy).")
        if not np.issubdtype(y.dtype, np.integer) and not np.all(y == np.round(y)):
            raise ValueError(f"{loss} expects integer class ids; got non-integer labels "
                             f"{np.unique(y[y != np.round(y)])[:10].tolist()}.")
        bad = (y < 0) | (y >= classes)
        if likelihood.ignore_class is not None:
            bad &= y != likelihood.ignore_class
        if np.any(bad):
            raise ValueError(f"Labels {np.unique(y[bad])[:10].tolist()} are out of range for the model's {classes} "
                             f"outputs: {loss} expects class ids in [0, {classes - 1}].")
        return
    if likelihood.kind == "categorical":
        if y.shape != (num_examples, *output_shape):
            hint = " (for integer class ids compile with sparse_categorical_crossentropy)" if y.ndim == 1 else ""
            raise ValueError(f"{loss} expects one row of {width} class probabilities (one-hot or soft labels) per "
                             f"example, matching the model's outputs {(num_examples, *output_shape)}; got targets "
                             f"of shape {y.shape}{hint}.")
    elif y.size != num_examples * width or (y.ndim and y.shape[0] != num_examples):
        raise ValueError(f"{loss} expects targets of the model's output shape {(num_examples, *output_shape)}; got "
                         f"shape {y.shape}.")
    if likelihood.kind in ("categorical", "binary") and np.any((y < 0) | (y > 1)):
        raise ValueError(f"Labels {np.unique(y[(y < 0) | (y > 1)])[:10].tolist()} are out of range for {loss}, "
                         f"which expects label values in [0, 1] for each of the model's {width} outputs.")


def target_check(model: keras.Model, likelihood: Likelihood | None) -> Callable | None:
    """``check(x, y)``, raising ``check_targets``' errors for a batch; None where there is nothing to check."""
    if likelihood is None:
        return None
    shape = []

    def check(x, y):
        if not shape:
            shape.append(_output_shape(model, x))
        check_targets(likelihood, y, int(x.shape[0]), shape[0])

    return check


def _output_shape(model: keras.Model, x) -> tuple[int, ...]:
    """The model's output shape for one example (from its symbolic output, else from one forward pass)."""
    try:
        outputs = model.outputs
    except (AttributeError, ValueError):
        outputs = None
    if outputs and len(outputs) == 1 and all(d is not None for d in outputs[0].shape[1:]):
        return tuple(int(d) for d in outputs[0].shape[1:])
    return tuple(int(d) for d in model(x[:1], training=False).shape[1:])
