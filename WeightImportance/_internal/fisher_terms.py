"""The Fisher of one example under a distribution r of its label, as a few weighted squared gradients.

For an example x and a distribution r over its label t, the diagonal of the Fisher is

    F(x) = E_{t~r} [ (∂ log p(t | x, w) / ∂w)² ]                    (squares elementwise: the diagonal)

which is *not* (∂ E_{t~r} log p(t | x, w) / ∂w)², the square of the expected score (that is 0 when r is the
model's own distribution). For each likelihood of ``likelihood.py`` it reduces to the gradients of one vector
v(x) of J components per example (``components``) and, for binary outputs, one more gradient:

    F(x) = [ (∂ ℓ(ȳ | x) / ∂w)² ]  +  Σ_j c_j (∂ v_j(x) / ∂w)²                              (``c = weights``)

- **categorical**, r = q (a row of class probabilities, Σ_k q_k = 1): F(x) = Σ_k q_k (∂ log p_k / ∂w)²,
  so v = log p and c = q, with no first term. A one-hot row e_y gives (∂ log p_y / ∂w)², the value for the
  class id y. Rows must sum to 1 (within 1e-3): other rows are not a distribution over the classes.
- **binary**, J independent Bernoulli outputs p_j, r: t_j ~ Bernoulli(y_j) independently, y_j in [0, 1]. The
  score is G(t) = Σ_j [t_j d1_j + (1 - t_j) d0_j] with d1_j = ∂ log p_j / ∂w and d0_j = ∂ log(1 - p_j) / ∂w.
  Its mean is E G = Σ_j [y_j d1_j + (1 - y_j) d0_j] = ∂ ℓ(y) / ∂w, the gradient of the soft-target
  log-likelihood ℓ(y) = Σ_j [y_j log p_j + (1 - y_j) log(1 - p_j)]; its centred part G - E G =
  Σ_j (t_j - y_j)(d1_j - d0_j) is a sum of independent terms of mean 0, so *their* cross terms vanish (those
  of G itself do not): E G² = (E G)² + Σ_j Var(t_j)(d1_j - d0_j)². With d1_j - d0_j = ∂ z_j / ∂w for the logit
  z_j = log p_j - log(1 - p_j),

      F(x) = (∂ ℓ(y) / ∂w)² + Σ_j y_j (1 - y_j) (∂ z_j / ∂w)²,

  so v = z, c = y(1 - y), and the first term with ȳ = y. For one output this is y (d1)² + (1 - y)(d0)²; for
  hard targets (every y_j 0 or 1) the second term is 0 and F is the square of the data's score, as before.
  With probabilities (``from_logits=False``) p_j is clipped to [ε, 1 - ε] as the likelihood reads it, so a
  clipped output contributes no gradient.
- **gaussian**, r = N(f(x), I): ∂ log p(t) / ∂w = Σ_j (t_j - f_j) ∂f_j / ∂w, and E (t_j - f_j)(t_k - f_k) =
  δ_jk, so F(x) = Σ_j (∂ f_j / ∂w)², the diagonal of JᵀJ for the Jacobian J = ∂f / ∂w: v = f, c = 1.

Which r (``label_weights``): ``"data"`` takes the data's label rows q (categorical) or targets y (binary);
``"exact"`` the model's own distribution, r = p(· | x, w): c = p (categorical), c = p(1 - p) with no first
term (binary: E G = Σ_j (p_j - p_j) ∂z_j = 0), c = 1 (gaussian). The weights are constants (no gradient flows
through them). Components with c = 0 are skipped, so a one-hot row costs one gradient and ``"exact"`` costs J.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from WeightImportance._internal.likelihood import Likelihood, bernoulli_probabilities, log_probabilities

ROW_SUM_TOLERANCE = 1e-3


def components(likelihood: Likelihood, outputs: tf.Tensor) -> tf.Tensor:
    """v(x) per example, as [batch, J]: log p (categorical), the logits z (binary), the outputs f (gaussian)."""
    if likelihood.kind == "categorical":
        v = log_probabilities(outputs, likelihood.from_logits)
    elif likelihood.kind == "binary" and not likelihood.from_logits:
        p = bernoulli_probabilities(outputs, False)
        v = tf.math.log(p) - tf.math.log(1.0 - p)
    else:
        v = outputs
    return tf.reshape(v, [tf.shape(v)[0], -1])


def has_first_term(likelihood: Likelihood, labels: str) -> bool:
    """Whether F includes (∂ ℓ(ȳ | x) / ∂w)²: for binary outputs under the data's targets only."""
    return likelihood.kind == "binary" and labels == "data"


def label_weights(likelihood: Likelihood, labels: str, model: keras.Model):
    """``weights(x, y) -> [batch, J]`` tensor c of the module docstring for ``labels`` "data" or "exact"."""
    if labels == "exact":
        @tf.function(reduce_retracing=True)
        def exact(x, y):
            outputs = model(x, training=False)
            if likelihood.kind == "categorical":
                c = tf.exp(log_probabilities(outputs, likelihood.from_logits))
            elif likelihood.kind == "binary":
                p = bernoulli_probabilities(outputs, likelihood.from_logits)
                c = p * (1.0 - p)
            else:
                c = tf.ones_like(outputs)
            return tf.stop_gradient(tf.reshape(c, [tf.shape(c)[0], -1]))

        return exact
    if likelihood.kind == "categorical" and not likelihood.sparse:
        def rows(x, y):
            q = np.asarray(y, dtype=np.float64).reshape(int(x.shape[0]), -1)
            sums = q.sum(axis=1)
            bad = np.flatnonzero(np.abs(sums - 1.0) > ROW_SUM_TOLERANCE)
            if bad.size:
                raise ValueError(f"The Fisher under label rows q takes each row as a distribution over the classes "
                                 f"(sum_k q_k = 1); rows {bad[:10].tolist()} of a batch sum to "
                                 f"{np.round(sums[bad[:10]], 6).tolist()}. Normalise the rows, or use "
                                 "labels='sampled' or 'exact', which do not read them.")
            return tf.constant(q, dtype=tf.float32)

        return rows
    if likelihood.kind == "binary":
        def targets(x, y):
            y = tf.reshape(tf.cast(y, tf.float32), [int(x.shape[0]), -1])
            return y * (1.0 - y)

        return targets
    raise ValueError(f"No label distribution for a {likelihood.kind} likelihood with labels={labels!r}.")
