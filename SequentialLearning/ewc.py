"""Elastic weight consolidation with any importance measure, inside Keras' compiled training step.

    loss(w) = task loss(w) + λ/2 Σ_t Σ_i Ω_{t,i} (w_i - w*_{t,i})²

(Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in neural networks", eq. 3 with one term per finished
task t, as in their multi-task version). Ω_t is a measure's importance of every trainable weight after task t,
normalised (``normalization.py``), and w*_t the weights at that time. Two variants:

- ``"separate"`` (default): one term per finished task, exactly as above. The sum of quadratics is held as one
  quadratic, Σ_t Ω_t (w - w*_t)² = A (w - c)² + k with A = Σ_t Ω_t, c = Σ_t Ω_t w*_t / A and the constant
  k = Σ_t Ω_t w*_t² - (Σ_t Ω_t w*_t)² / A (computed in float64), so the penalty, and its gradient, are exact with a
  fixed set of variables whatever the number of tasks.
- ``"online"``: online EWC (Schwarz et al. 2018, "Progress & Compress", eq. 8; Huszár 2018): one running
  precision Ω ← γ Ω + Ω_t anchored at the latest weights w* ← w*_t, with decay γ (``decay``, 1 = no decay).

With two tasks both variants are the same penalty.

``EWCModel`` is a functional ``keras.Model`` wrapping the task's model: it overrides ``compute_loss`` to add the
penalty, so ``fit`` runs the usual compiled train step (no ``run_eagerly``), and the penalty is part of the loss the
optimizer minimises (and the loss the gradient-recording measures see). A, c, k and λ are non-trainable
``tf.Variable``s assigned between tasks, so nothing is retraced when a task is consolidated or λ changes. The
wrapper shares the wrapped model's variables (its ``trainable_weights`` are the same variables in the same order),
so a measure's callbacks attached to ``fit`` on the wrapper observe the model across all tasks.

Task-incremental output masking: the wrapper ends with an ``OutputMask`` layer that replaces the logits of the
classes outside the current task by ``MASKED_LOGIT`` (a large negative value), so they can never be predicted,
get zero probability in the cross-entropy and receive no gradient. The mask is a non-trainable variable of the
model, set with ``set_classes``; it applies in training, evaluation and when a measure is computed on the wrapper.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from SequentialLearning.normalization import NORMALIZATIONS, normalize_importances

VARIANTS = ("separate", "online")
MASKED_LOGIT = -1e9


class OutputMask(keras.layers.Layer):
    """Keeps the logits of the classes whose entry of ``keep`` is 1 and sets the others to ``MASKED_LOGIT``."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        self.keep = self.add_weight(shape=(self.num_classes,), initializer="ones", trainable=False, name="keep")

    def call(self, logits):
        keep = tf.cast(self.keep, logits.dtype) > 0.5
        return tf.where(keep, logits, tf.constant(MASKED_LOGIT, logits.dtype))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


class EWCModel(keras.Model):
    """A model trained with the EWC penalty and task-incremental output masking (see the module docstring).

    Build it with ``ewc_model(model, ...)``. Between tasks: ``consolidate(importances)`` adds the finished task's
    term, ``set_classes(classes)`` chooses the output classes of the next task, ``ewc_lambda`` sets λ.
    ``penalty()`` is the current value of λ/2 Σ Ω (w - w*)². The penalty is part of the loss ``fit`` minimises and
    ``evaluate`` reports; the sequential runner records the task's own loss, without it.
    """

    def __init__(self, inputs, outputs, *, ewc_lambda: float = 1.0, normalization: str = "mean",
                 variant: str = "separate", decay: float = 1.0, name: str | None = None):
        super().__init__(inputs=inputs, outputs=outputs, name=name)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown normalization {normalization!r}; valid: {list(NORMALIZATIONS)}.")
        if variant not in VARIANTS:
            raise ValueError(f"Unknown EWC variant {variant!r}; valid: {list(VARIANTS)}.")
        if not 0 <= decay <= 1:
            raise ValueError(f"decay must be in [0, 1]; got {decay!r}.")
        self.normalization = normalization
        self.variant = variant
        self.decay = float(decay)
        self._output_mask = next((layer for layer in self.layers if isinstance(layer, OutputMask)), None)
        shapes = [tuple(w.shape) for w in self.trainable_weights]
        # Kept off Keras' variable tracking: they are not part of model.weights, so a measure that copies the
        # model (e.g. synflow's clone) sees only the network's own variables.
        self._ewc = _PenaltyState(
            ewc_lambda=tf.Variable(float(ewc_lambda), trainable=False, dtype=tf.float32, name="ewc_lambda"),
            precision=[tf.Variable(tf.zeros(s), trainable=False, name="ewc_precision") for s in shapes],
            center=[tf.Variable(tf.zeros(s), trainable=False, name="ewc_center") for s in shapes],
            constant=tf.Variable(0.0, trainable=False, dtype=tf.float32, name="ewc_constant"),
            shapes=shapes,
        )
        self.ewc_lambda = ewc_lambda

    # -- λ and the penalty -------------------------------------------------------------------------------------
    @property
    def ewc_lambda(self) -> float:
        return float(self._ewc.ewc_lambda.numpy())

    @ewc_lambda.setter
    def ewc_lambda(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
            raise ValueError(f"ewc_lambda must be a number >= 0; got {value!r}.")
        self._ewc.ewc_lambda.assign(float(value))

    @property
    def num_consolidated_tasks(self) -> int:
        return self._ewc.num_tasks

    def penalty(self) -> tf.Tensor:
        """λ/2 Σ_t Σ_i Ω_{t,i} (w_i - w*_{t,i})², as a scalar tensor (graph-safe)."""
        state = self._ewc
        total = state.constant
        for weight, precision, center in zip(self.trainable_weights, state.precision, state.center):
            difference = tf.cast(weight, tf.float32) - center
            total = total + tf.reduce_sum(precision * tf.square(difference))
        return 0.5 * state.ewc_lambda * total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
        return loss + tf.cast(self.penalty(), loss.dtype)

    # -- between tasks -----------------------------------------------------------------------------------------
    def consolidate(self, importances, normalization: str | None = None) -> list[np.ndarray]:
        """Add the term of the task just finished: Ω from ``importances`` (one array per trainable weight,
        normalised with ``normalization``, default the model's), anchored at the current weights. Returns Ω."""
        precision = normalize_importances(importances, normalization or self.normalization)
        anchor = [np.asarray(w, dtype=np.float64) for w in self.trainable_weights]
        self._ewc.add(precision, anchor, self.variant, self.decay)
        return precision

    def reset_consolidation(self) -> None:
        """Forget every consolidated task: the penalty becomes 0."""
        self._ewc.reset()

    def get_consolidation(self) -> dict:
        """What ``consolidate`` has accumulated (not λ), for ``set_consolidation``."""
        return self._ewc.get_state()

    def set_consolidation(self, state: dict) -> None:
        self._ewc.set_state(state)

    def set_classes(self, classes: Sequence[int] | None) -> None:
        """Predict only ``classes`` (class ids) from now on; None: every class."""
        if self._output_mask is None:
            if classes is None:
                return
            raise ValueError("This model has no output mask (it was built with mask_outputs=False).")
        width = self._output_mask.num_classes
        keep = np.ones(width, np.float32)
        if classes is not None:
            classes = [int(c) for c in classes]
            bad = [c for c in classes if not 0 <= c < width]
            if not classes or bad:
                raise ValueError(f"classes must be a non-empty list of class ids in [0, {width - 1}]; got {classes}.")
            keep[:] = 0.0
            keep[classes] = 1.0
        self._output_mask.keep.assign(keep)

    @contextlib.contextmanager
    def classes_set(self, classes: Sequence[int] | None) -> Iterator[None]:
        """Predict only ``classes`` inside the ``with`` block; the classes before it come back after it."""
        current = self.classes
        self.set_classes(classes)
        try:
            yield
        finally:
            self.set_classes(current)

    @property
    def classes(self) -> list[int] | None:
        """The classes the model may predict now (None: all)."""
        if self._output_mask is None:
            return None
        keep = np.asarray(self._output_mask.keep) > 0.5
        return None if keep.all() else np.flatnonzero(keep).tolist()


class _PenaltyState:
    """A, c, k and λ as variables, plus the float64 sums they are computed from."""

    def __init__(self, ewc_lambda, precision, center, constant, shapes):
        self.ewc_lambda = ewc_lambda
        self.precision = precision
        self.center = center
        self.constant = constant
        self.shapes = shapes
        self.reset()

    def reset(self) -> None:
        self.num_tasks = 0
        self.precision_sum = [np.zeros(s) for s in self.shapes]        # A = Σ Ω_t
        self.weighted_sum = [np.zeros(s) for s in self.shapes]         # B = Σ Ω_t w*_t
        self.weighted_squares = [np.zeros(s) for s in self.shapes]     # C = Σ Ω_t w*_t²
        self._assign(self.precision_sum, [np.zeros(s) for s in self.shapes], 0.0)

    def add(self, precision, anchor, variant: str, decay: float) -> None:
        if [p.shape for p in precision] != [tuple(s) for s in self.shapes]:
            raise ValueError(f"Importances of shapes {[p.shape for p in precision]} do not match the model's trainable "
                             f"weights {self.shapes}: pass one array per model.trainable_weights entry.")
        self.num_tasks += 1
        if variant == "online":
            self.precision_sum = [decay * a + p for a, p in zip(self.precision_sum, precision)]
            self._assign(self.precision_sum, anchor, 0.0)
            return
        self.precision_sum = [a + p for a, p in zip(self.precision_sum, precision)]
        self.weighted_sum = [b + p * w for b, p, w in zip(self.weighted_sum, precision, anchor)]
        self.weighted_squares = [c + p * w * w for c, p, w in zip(self.weighted_squares, precision, anchor)]
        centers, constant = [], 0.0
        for a, b, c, w in zip(self.precision_sum, self.weighted_sum, self.weighted_squares, anchor):
            positive = a > 0
            centers.append(np.where(positive, b / np.where(positive, a, 1.0), w))
            constant += float(np.sum(np.where(positive, c - b * b / np.where(positive, a, 1.0), 0.0)))
        self._assign(self.precision_sum, centers, max(constant, 0.0))

    def get_state(self) -> dict:
        return {
            "num_tasks": self.num_tasks,
            "sums": [[a.copy() for a in arrays] for arrays in
                     (self.precision_sum, self.weighted_sum, self.weighted_squares)],
            "variables": ([v.numpy() for v in self.precision], [v.numpy() for v in self.center],
                          float(self.constant.numpy())),
        }

    def set_state(self, state: dict) -> None:
        self.num_tasks = int(state["num_tasks"])
        self.precision_sum, self.weighted_sum, self.weighted_squares = ([a.copy() for a in arrays]
                                                                        for arrays in state["sums"])
        self._assign(*state["variables"])

    def _assign(self, precision, centers, constant: float) -> None:
        for variable, value in zip(self.precision, precision):
            variable.assign(np.asarray(value, np.float32))
        for variable, value in zip(self.center, centers):
            variable.assign(np.asarray(value, np.float32))
        self.constant.assign(constant)


def ewc_model(model: keras.Model, ewc_lambda: float = 1.0, normalization: str = "mean", variant: str = "separate",
              decay: float = 1.0, mask_outputs: bool = True, optimizer: keras.optimizers.Optimizer | None = None,
              loss: keras.losses.Loss | None = None) -> EWCModel:
    """Wrap ``model`` (built, with a single input and output) for EWC; the result shares its variables.

    ``optimizer``/``loss`` default to a fresh optimizer of the same kind and settings as ``model``'s and to
    ``model``'s loss. ``mask_outputs`` adds the ``OutputMask`` (set with ``set_classes``; all classes at first).
    """
    if not model.built or not getattr(model, "inputs", None) or len(model.inputs) != 1:
        raise ValueError(f"Model {model.name!r} must be built with one keras.Input (a Sequential or functional "
                         "model whose input shape is known).")
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError(f"Model {model.name!r} is not compiled: compile it, or pass loss=... .")
    if optimizer is None:
        if getattr(model, "optimizer", None) is None:
            raise ValueError(f"Model {model.name!r} has no optimizer: compile it, or pass optimizer=... .")
        optimizer = model.optimizer.__class__.from_config(model.optimizer.get_config())
    inputs = keras.Input(shape=tuple(model.inputs[0].shape[1:]), dtype=model.inputs[0].dtype)
    outputs = model(inputs)
    if mask_outputs:
        outputs = OutputMask(int(outputs.shape[-1]), name="output_mask")(outputs)
    wrapped = EWCModel(inputs, outputs, ewc_lambda=ewc_lambda, normalization=normalization, variant=variant,
                       decay=decay, name=f"ewc_{model.name}")
    wrapped.compile(optimizer=optimizer, loss=loss)
    return wrapped
