"""SynFlow: iterative synaptic flow, a data-free score of every weight.

    R = 1^T ( prod_l |W_l| ) 1,        S(w) = | w ⊙ dR/dw |   evaluated with every w replaced by |w|

(Tanaka et al. 2020, "Pruning neural networks without any data by iteratively conserving synaptic flow"). R is
the sum of the outputs of the *linearized* network: every variable replaced by its absolute value and the input
an all-ones tensor of the model's input shape (batch of 1). So S = |w| · dR/d|w| >= 0.

Choices, as in the paper's code:
- Every model variable is replaced by its absolute value: kernels, biases, and BatchNormalization's gamma, beta
  and moving statistics. The network runs in inference mode (``training=False``; the paper: ``model.eval()``), so
  BatchNormalization uses the absolute moving statistics and Dropout is off. Biases and BatchNormalization's gamma
  and beta are scored like any other trainable weight.
- The computation runs in ``dtype="float64"`` (the paper's choice: R is a product over layers and overflows
  float32 quickly) on a clone of the model built with ``keras.models.clone_model``, so the model itself is never
  touched. ``dtype="float32"`` clones in single precision.

What is returned:
- ``num_iterations=1``: the single-shot scores S of the dense network.
- ``num_iterations=n > 1`` (the default, 100, as in the paper): the iterative procedure of the paper (Algorithm 1)
  over all trainable weights with the exponential schedule: in round k = 1..n the scores S_k of the masked
  network (removed weights set to 0) are computed, and the remaining weights with the lowest S_k are removed
  until a fraction ``final_density ** (k / n)`` of all trainable weights remains (ties removed in a fixed order).
  This ranks rather than prunes, so every weight gets

      importance = (rounds it survived) + S_k(w) / (2 max S_k),

  with S_k its score in the round that removed it (or in round n for the ``final_density`` fraction that
  survives all rounds, which gets n + ...). The integer part orders weights by when the procedure removes them
  (earlier = less important), the fraction in [0, 1/2] orders the weights removed in one round by their score.
  Cost: n forward and backward passes of one input, plus n sorts of all scores.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from WeightImportance.base import ImportanceMeasure, as_importances, check_model

DTYPES = ("float64", "float32")


def _linearized_clone(model: keras.Model, dtype: str) -> keras.Model:
    """A clone of ``model`` computing in ``dtype``, holding the absolute values of all the model's variables."""

    def clone_layer(layer):
        config = layer.get_config()
        config["dtype"] = dtype
        return layer.__class__.from_config(config)

    try:
        clone = keras.models.clone_model(model, clone_function=clone_layer, recursive=True)
    except Exception as error:
        raise ValueError(
            f"synflow evaluates a float copy of the model made with keras.models.clone_model, which failed for "
            f"model {model.name!r} ({type(error).__name__}: {error}). Use a Sequential or functional model."
        ) from error
    originals, copies = list(model.weights), list(clone.weights)
    if [tuple(v.shape) for v in originals] != [tuple(v.shape) for v in copies]:
        raise ValueError(f"The clone of model {model.name!r} does not have the model's variables; synflow needs a "
                         "Sequential or functional model whose layers can be rebuilt from their configs.")
    for original, copy in zip(originals, copies):
        value = np.asarray(original)
        copy.assign(np.abs(value).astype(copy.dtype) if np.issubdtype(value.dtype, np.floating) else value)
    return clone


def _ones_input(model: keras.Model, dtype: str) -> tf.Tensor:
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        raise ValueError(f"synflow feeds an all-ones input of the model's input shape, but model {model.name!r} "
                         "has no single defined input; build it with keras.Input(shape).")
    shape = tuple(inputs[0].shape[1:])
    if any(d is None for d in shape):
        raise ValueError(f"synflow needs a fully defined input shape, got {(None, *shape)}.")
    return tf.ones((1, *shape), dtype=dtype)


class SynFlow(ImportanceMeasure):
    """Iterative SynFlow (see the module docstring for what is returned). Ignores ``data``.

    Options: ``num_iterations`` (rounds of the iterative procedure, default 100; 1 = single-shot scores),
    ``final_density`` (fraction of the trainable weights the procedure keeps after the last round, in (0, 1],
    default 0.01), ``dtype`` ("float64" or "float32", the precision of the linearized clone).
    """

    name = "synflow"
    needs_data = False

    def __init__(self, num_iterations: int = 100, final_density: float = 0.01, dtype: str = "float64"):
        if not isinstance(num_iterations, (int, np.integer)) or num_iterations < 1:
            raise ValueError(f"num_iterations must be a positive integer, got {num_iterations!r}.")
        if not 0 < final_density <= 1:
            raise ValueError(f"final_density must be in (0, 1], got {final_density!r}.")
        if dtype not in DTYPES:
            raise ValueError(f"Unknown dtype {dtype!r} for synflow; valid: {list(DTYPES)}.")
        self.num_iterations = int(num_iterations)
        self.final_density = float(final_density)
        self.dtype = dtype

    def compute(self, model, data=None):
        check_model(model)
        ones = _ones_input(model, self.dtype)
        clone = _linearized_clone(model, self.dtype)
        variables = clone.trainable_weights
        if [tuple(v.shape) for v in variables] != [tuple(w.shape) for w in model.trainable_weights]:
            raise ValueError(f"The clone of model {model.name!r} does not match its trainable weights.")
        magnitudes = [np.asarray(v, np.float64) for v in variables]

        @tf.function
        def synaptic_flow_gradient():
            with tf.GradientTape() as tape:
                flow = tf.reduce_sum(clone(ones, training=False))
            return tape.gradient(flow, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)

        def scores(masks):
            for variable, magnitude, mask in zip(variables, magnitudes, masks):
                variable.assign((magnitude * mask).astype(variable.dtype))
            result = [np.abs(magnitude * mask * np.asarray(g, np.float64))
                      for magnitude, mask, g in zip(magnitudes, masks, synaptic_flow_gradient())]
            if not all(np.all(np.isfinite(s)) for s in result):
                advice = "; use dtype='float64'." if self.dtype == "float32" else "."
                raise FloatingPointError(
                    f"synflow overflowed in {self.dtype}: the product of the layers' absolute weights exceeds "
                    f"its range{advice}"
                )
            return result

        masks = [np.ones(m.shape, np.float64) for m in magnitudes]
        if self.num_iterations == 1:
            return as_importances(scores(masks), model, self.name)

        sizes = [m.size for m in magnitudes]
        total = sum(sizes)
        alive = np.ones(total, bool)
        importance = np.zeros(total, np.float64)
        for round_index in range(1, self.num_iterations + 1):
            if not alive.any():
                break
            flat = np.concatenate([s.ravel() for s in scores(masks)])
            largest = flat[alive].max()
            scaled = flat / (2 * largest) if largest > 0 else np.zeros_like(flat)
            keep = int(np.floor(self.final_density ** (round_index / self.num_iterations) * total + 0.5))
            candidates = np.flatnonzero(alive)
            removed = candidates[np.argsort(flat[candidates], kind="stable")[: max(candidates.size - keep, 0)]]
            importance[removed] = (round_index - 1) + scaled[removed]
            alive[removed] = False
            if round_index == self.num_iterations:
                importance[alive] = round_index + scaled[alive]
            flat_mask = alive.astype(np.float64)
            masks = [part.reshape(m.shape) for part, m in zip(np.split(flat_mask, np.cumsum(sizes)[:-1]), magnitudes)]
        return as_importances([part.reshape(m.shape) for part, m in
                               zip(np.split(importance, np.cumsum(sizes)[:-1]), magnitudes)], model, self.name)
