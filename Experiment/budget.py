"""How many validation examples a thresholded model is evaluated on: ``ExperimentConfig.validation_precision``.

With ``validation_precision = p`` (None: every example, every time) the validation examples are evaluated in one
seeded order (the trial's seed; ``Runs.evaluation.Evaluator(order_seed=...)``), the same for every curve of the
trial, in batches of ``evaluation_batch_size``. The trained model (f = 0) is evaluated on all of them once per
measured epoch, and so is the fully replaced model (``chance_val_loss``). A thresholded model is evaluated batch
by batch until, over its first ``n`` examples (at least ``MIN_EXAMPLES``), the standard error of its mean loss
difference from the trained model on the same examples (common random numbers)

    SE_n = sd(l_i - l0_i) / sqrt(n)

is at most ``p (Lc - L0)``, with ``L0`` the trained and ``Lc`` the chance loss. Its row records the estimate

    val_loss = L0 + mean_{i <= n} (l_i - l0_i),     val_accuracy = A0 + mean_{i <= n} (a_i - a0_i)

(a control-variate estimate of the loss over all examples, with ``L0`` and ``A0`` over all of them; the accuracy
clipped to [0, 1]) and ``num_val_examples_used = n``. With every example used it is the plain mean. So each row's
normalised loss ``(L - L0) / (Lc - L0)`` has a standard error of at most ``p`` relative to its value on every
example, and the normalised AUC, a weighted mean of those with weights summing to 1, has one of at most ``p``
too (whatever the correlation between rows); the differences between curves, which share the examples, are
more precise than that. The stop is decided on the data it stops, which biases the estimate by a fraction of
``SE_n``; the benchmark ``benchmarks/evaluation_budget.py`` measures the result against full evaluation.
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


def estimate(evaluator, reference: Evaluated, bound: float) -> Evaluated:
    """The model as it is, evaluated batch by batch until the standard error of its mean loss difference from
    ``reference`` (the trained model on the same examples in the same order) is at most ``bound`` (module
    docstring)."""
    losses, hits, used = [], [], 0
    total = reference.num_examples
    for batch_losses, batch_hits in evaluator.batches():
        losses.append(batch_losses)
        hits.append(batch_hits)
        used += len(batch_losses)
        if used >= total or used < MIN_EXAMPLES or bound <= 0:
            continue
        difference = np.concatenate(losses) - reference.losses[:used]
        if difference.std(ddof=1) / math.sqrt(used) <= bound:
            hit_difference = np.concatenate(hits) - reference.hits[:used]
            accuracy = reference.accuracy + float(hit_difference.mean())
            if not math.isnan(accuracy):
                accuracy = min(1.0, max(0.0, accuracy))
            return Evaluated(reference.loss + float(difference.mean()), accuracy, used)
    losses, hits = np.concatenate(losses), np.concatenate(hits)
    return Evaluated(float(losses.sum() / used), float(hits.sum() / used), used)
