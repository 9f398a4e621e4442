"""How many validation examples a thresholded model is evaluated on: ``ExperimentConfig.validation_precision``.

With ``validation_precision = p`` (None: every example, every time) the validation examples are evaluated in one
seeded order (the trial's seed; ``Runs.evaluation.Evaluator(order_seed=...)``), the same for every curve of the
trial, in batches of ``evaluation_batch_size``. The trained model (f = 0) is evaluated on all of them once per
measured epoch, and so is the fully replaced model (``chance_val_loss``). A thresholded model is evaluated batch
by batch until, over its first ``n`` examples (at least ``MIN_EXAMPLES``), the standard error of its estimate
of the mean loss over all examples is at most ``p (Lc - L0)``, with ``L0`` the trained and ``Lc`` the chance loss.
The estimate takes the trained model's losses ``l0_i`` on the same examples (common random numbers) as a control
variate, whose mean over all examples, ``L0``, is known:

    val_loss = mean(l) - beta (mean(l0) - L0),   beta = cov(l, l0) / var(l0),   SE_n = sd(l - beta l0) / sqrt(n)

(means, covariance and sd over the first ``n``). Near f = 0 the losses follow the trained ones (beta near 1: the
loss difference from the trained model, far more precise than the loss itself); on the plateau at chance they do
not (beta near 0: the plain mean, so the trained model's sampling error on the first ``n`` examples, which a plain
difference would carry into every row of every curve alike, stays out). The accuracy is estimated the same way
from the trained model's hits (clipped to [0, 1]). The row records ``num_val_examples_used = n``; with every
example used it is the plain mean. So each row's
normalised loss ``(L - L0) / (Lc - L0)`` has a standard error of at most ``p`` relative to its value on every
example, and the normalised AUC, a weighted mean of those with weights summing to 1, has one of at most ``p``
too (whatever the correlation between rows); the differences between curves, which share the examples, are
more precise than that. The stop is decided on the data it stops, and ``beta`` is estimated from them, which
bias the estimate by a fraction of ``SE_n``; ``benchmarks/evaluation_budget.py`` measures it against full
evaluation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A row is never estimated from fewer examples than this (its standard error is estimated from them).
MIN_EXAMPLES = 1000


@dataclass(frozen=True)
class Evaluated:
    """A model's validation loss and accuracy, from ``num_examples`` examples; ``losses`` and ``hits``: the
    per-example values over all examples, kept for the trained model (the reference of the other rows)."""

    loss: float
    accuracy: float
    num_examples: int
    losses: np.ndarray | None = None
    hits: np.ndarray | None = None


def evaluate_all(evaluator, per_example: bool) -> Evaluated:
    """The model as it is on every example of ``evaluator`` (``Runs.evaluation.Evaluator``): its plain call, or,
    with ``per_example``, its per-example values kept as a reference."""
    if not per_example:
        loss, accuracy = evaluator()
        return Evaluated(loss, accuracy, evaluator.num_examples)
    parts = list(evaluator.batches())
    losses = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
    hits = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
    if not len(losses):
        return Evaluated(math.nan, math.nan, 0, losses, hits)
    return Evaluated(float(losses.sum() / len(losses)), float(hits.sum() / len(hits)), len(losses), losses, hits)


def stopping_bound(precision: float, trained_loss: float, chance_loss: float) -> float:
    """The standard error at which a row stops: ``precision (Lc - L0)``; 0 (every example) where the trained model
    is not below chance or a loss is NaN."""
    gap = chance_loss - trained_loss
    return precision * gap if gap > 0 else 0.0


def control_variate(values: np.ndarray, reference: np.ndarray, reference_mean: float) -> tuple[float, float]:
    """``(estimate, standard error)`` of the mean of ``values`` over all examples from its first ``n``, with the
    reference's values on the same examples as control variate (module docstring): ``beta = cov(l, l0) / var(l0)``,
    ``mean(l) - beta (mean(l0) - L0)``, and ``sd(l - beta l0) / sqrt(n)``."""
    centred = reference - reference.mean()
    spread = float(centred @ centred)
    beta = float(centred @ (values - values.mean())) / spread if spread > 0 else 0.0
    estimate = float(values.mean()) - beta * (float(reference.mean()) - reference_mean)
    return estimate, float((values - beta * reference).std(ddof=1)) / math.sqrt(len(values))


def estimate(evaluator, reference: Evaluated, bound: float) -> Evaluated:
    """The model as it is, evaluated batch by batch until the standard error of its control-variate estimate
    (the trained model's values on the same examples in the same order, ``reference``, as control) is at most
    ``bound`` (module docstring)."""
    losses, hits, used = [], [], 0
    total = reference.num_examples
    for batch_losses, batch_hits in evaluator.batches():
        losses.append(batch_losses)
        hits.append(batch_hits)
        used += len(batch_losses)
        if used >= total or used < MIN_EXAMPLES or bound <= 0:
            continue
        loss, error = control_variate(np.concatenate(losses), reference.losses[:used], reference.loss)
        if error <= bound:
            accuracy = math.nan
            if not math.isnan(reference.accuracy):
                accuracy, _ = control_variate(np.concatenate(hits), reference.hits[:used], reference.accuracy)
                accuracy = min(1.0, max(0.0, accuracy))
            return Evaluated(loss, accuracy, used)
    losses, hits = np.concatenate(losses), np.concatenate(hits)
    return Evaluated(float(losses.sum() / used), float(hits.sum() / used), used)
