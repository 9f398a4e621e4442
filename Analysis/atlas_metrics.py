"""What the atlas computes from saved importances: removal sets, agreement, overlap, allocation, distributions.

Removal sets follow the runner's rule at level ``weight`` exactly (``Experiment.grid`` ranks with
``Aggregation.rank_groups(level="weight", method="mean", scope=..., order=..., seed=trial seed,
parameters=config.parameters)``; at level weight a group is one weight and its score is its importance), written
here in NumPy because the analysis does not import ``Aggregation``:

1. the tensors ``parameters`` selects (``all``; ``kernels``: the kernel, depthwise or pointwise kernel of a
   Dense, EinsumDense or convolution layer; ``no_normalization``: all but the tensors of normalization layers),
   recognised by the Keras class of the owning layer and the tensor's kind recorded in the file;
2. every selected weight is a group; groups are numbered layer by layer (layers in order of first appearance
   among the selected tensors, a layer's tensors in ``model.trainable_weights`` order, each tensor's weights in
   C order); with ``scope="tensor"`` in tensor order instead;
3. within each scope unit (a layer for ``"layer"``, the whole model for ``"model"``, a tensor for ``"tensor"``)
   the weights are sorted by importance (ascending for order ``least``, descending for ``most``), ties broken by
   ``np.random.default_rng(seed).permutation(num_weights)`` (the same draw), and a fraction f removes the first

       k = floor(f * N + 0.5)                          (N: the scope unit's number of selected weights)

   of every scope unit. So the sets here are the very weights the run replaced at each threshold (a test checks
   them against ``Aggregation.rank_groups`` mask for mask).

Tables (one row per trial and epoch; the figures average them over trials):

- ``agreement_table``: Spearman's ρ and Kendall's τ_b (``scipy.stats``, ties averaged) between every pair of
  measures, over all selected weights (``tensor = "all"``) and per tensor; NaN where a measure is constant.
- ``overlap_table``: Jaccard |A ∩ B| / |A ∪ B| of the sets two measures remove at each of the run's fractions
  (layer scope), for both orders; ``independent_jaccard`` = Σ k²/N / Σ (2k − k²/N) over layers, the ratio of
  expectations for two independent uniform sets of the same sizes (about f / (2 − f)).
- ``allocation_table``: for a ``scope="model"`` ranking, the fraction of each tensor removed at each overall
  fraction; ``overall_fraction`` = k / N, which the tensors' fractions weighted by their sizes sum to, and
  ``layer_scope_fraction`` = floor(f N_l + 0.5) / N_l, what a layer-scope ranking removes of the tensor's layer.
- ``distribution_table``: per tensor, the quantiles (0, 5, 25, 50, 75, 95, 100 %), mean, and fractions of zero
  and negative importances.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from Analysis.atlas_loading import ImportanceSet, TensorInfo

KERNEL_CLASSES = ("Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose",
                  "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D")
KERNEL_KINDS = ("kernel", "depthwise_kernel", "pointwise_kernel")
NORMALIZATION_CLASSES = ("BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization",
                         "UnitNormalization")
SELECTIONS = ("all", "kernels", "no_normalization")
SCOPES = ("layer", "model", "tensor")
ORDERS = ("least", "most")
ALL_WEIGHTS = "all"
QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def selected_tensors(tensors: list[TensorInfo], parameters: str = "all") -> list[bool]:
    """Per tensor, whether ``parameters`` thresholds it (the rule of ``Aggregation.parameters``)."""
    if parameters not in SELECTIONS:
        raise ValueError(f"Unknown parameters {parameters!r}; valid: {list(SELECTIONS)}.")
    if parameters == "all":
        return [True] * len(tensors)
    if any(t.keras_class is None for t in tensors):
        raise ValueError(f"parameters={parameters!r} needs each tensor's layer class, which files written before "
                         "format 2 do not record; save the importances again with this version.")
    if parameters == "kernels":
        return [t.keras_class in KERNEL_CLASSES and t.kind in KERNEL_KINDS for t in tensors]
    return [t.keras_class not in NORMALIZATION_CLASSES for t in tensors]


@dataclass(frozen=True)
class WeightRanking:
    """The removal rank of every selected weight within its scope unit (0 = removed first; -1: not selected)."""

    ranks: list[np.ndarray]
    tensor_scopes: np.ndarray
    scope_sizes: np.ndarray

    def cuts(self, fraction: float) -> np.ndarray:
        """floor(fraction * N + 0.5) for every scope unit."""
        if not 0.0 <= float(fraction) <= 1.0:
            raise ValueError(f"A fraction must lie in [0, 1]; got {fraction}.")
        return np.clip(np.floor(float(fraction) * self.scope_sizes + 0.5).astype(np.int64), 0, self.scope_sizes)

    def masks(self, fraction: float) -> list[np.ndarray]:
        """One bool array per tensor, True where the weight is removed at ``fraction``."""
        cut = self.cuts(fraction)
        return [ranks < cut[scope] if scope >= 0 else np.zeros(ranks.shape, dtype=bool)
                for ranks, scope in zip(self.ranks, self.tensor_scopes)]


def rank_weights(importances: ImportanceSet, parameters: str = "all", scope: str = "layer", order: str = "least",
                 seed: int = 0) -> WeightRanking:
    """The runner's weight-level ranking of one set of importances (module docstring, steps 1-3)."""
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}; valid: {list(SCOPES)}.")
    if order not in ORDERS:
        raise ValueError(f"Unknown order {order!r}; valid: {list(ORDERS)}.")
    tensors, arrays = importances.tensors, importances.arrays
    chosen = [i for i, keep in enumerate(selected_tensors(tensors, parameters)) if keep]
    if not chosen:
        raise ValueError(f"parameters={parameters!r} selects none of the tensors of {importances.file}.")
    layers: dict[int, int] = {}
    for i in chosen:
        layers.setdefault(tensors[i].layer_index, len(layers))
    numbered = chosen if scope == "tensor" else sorted(chosen, key=lambda i: layers[tensors[i].layer_index])
    unit = {i: (number if scope == "tensor" else layers[tensors[i].layer_index] if scope == "layer" else 0)
            for number, i in enumerate(chosen)}
    scores = np.concatenate([arrays[i].ravel() for i in numbered])
    if not np.isfinite(scores).all():
        raise ValueError(f"The importances in {importances.file} hold NaN or infinite values; they cannot be ranked.")
    group_scopes = np.concatenate([np.full(arrays[i].size, unit[i], dtype=np.int64) for i in numbered])
    tie_break = np.random.default_rng(seed).permutation(scores.size)
    removal = np.lexsort((tie_break, scores if order == "least" else -scores, group_scopes))
    num_scopes = int(group_scopes.max()) + 1
    scope_sizes = np.bincount(group_scopes, minlength=num_scopes)
    starts = np.cumsum(scope_sizes) - scope_sizes
    flat = np.empty(scores.size, dtype=np.int64)
    flat[removal] = np.arange(scores.size) - starts[group_scopes[removal]]
    ranks = [np.full(a.shape, -1, dtype=np.int64) for a in arrays]
    offset = 0
    for i in numbered:
        ranks[i] = flat[offset:offset + arrays[i].size].reshape(arrays[i].shape)
        offset += arrays[i].size
    tensor_scopes = np.array([unit.get(i, -1) for i in range(len(arrays))], dtype=np.int64)
    return WeightRanking(ranks, tensor_scopes, scope_sizes)


def set_seed(importances: ImportanceSet, config: dict | None) -> int:
    """The tie-break seed of a trial: the one its file records, else the configuration's ``seed + trial``."""
    if importances.seed is not None:
        return importances.seed
    return int((config or {}).get("seed", 0)) + importances.trial


def agreement_table(sets: dict[str, ImportanceSet], parameters: str = "all") -> pd.DataFrame:
    """Spearman and Kendall between every pair of ``sets`` (one trial and epoch, by measure), over all selected
    weights and per selected tensor. Spearman is the Pearson correlation of the average ranks
    (``scipy.stats.rankdata``), each measure ranked once; Kendall's τ_b is ``scipy.stats.kendalltau``."""
    rows = []
    measures = sorted(sets)
    if not measures:
        return pd.DataFrame()
    tensors = sets[measures[0]].tensors
    chosen = [i for i, keep in enumerate(selected_tensors(tensors, parameters)) if keep]
    parts = [(ALL_WEIGHTS, None, chosen)] + [(tensors[i].label, tensors[i], [i]) for i in chosen]
    for label, tensor, indices in parts:
        values = {m: np.concatenate([sets[m].arrays[i].ravel() for i in indices]) for m in measures}
        ranks = {m: stats.rankdata(v) for m, v in values.items()}
        for a, b in itertools.combinations(measures, 2):
            spearman, kendall = rank_correlations(values[a], values[b], ranks[a], ranks[b])
            rows.append({"measure_a": a, "measure_b": b, "tensor": label,
                         "layer": tensor.layer if tensor else ALL_WEIGHTS, "kind": tensor.kind if tensor else "",
                         "num_weights": values[a].size, "spearman": spearman, "kendall": kendall})
    return pd.DataFrame(rows)


def rank_correlations(x: np.ndarray, y: np.ndarray, x_ranks=None, y_ranks=None) -> tuple[float, float]:
    """(Spearman's ρ, Kendall's τ_b) of two arrays; NaN when either is constant or has fewer than 2 values.
    ``x_ranks``, ``y_ranks``: their average ranks, if already computed."""
    if x.size < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan"), float("nan")
    x_ranks = stats.rankdata(x) if x_ranks is None else x_ranks
    y_ranks = stats.rankdata(y) if y_ranks is None else y_ranks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(np.corrcoef(x_ranks, y_ranks)[0, 1]), float(stats.kendalltau(x, y).statistic)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two boolean masks; NaN when both are empty."""
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else float("nan")


def overlap_table(sets: dict[str, ImportanceSet], fractions, parameters: str = "all", seed: int = 0,
                  orders=ORDERS) -> pd.DataFrame:
    """Jaccard of the layer-scope removal sets of every pair of measures at each fraction, per order."""
    rows = []
    measures = sorted(sets)
    for order in orders:
        rankings = {m: rank_weights(sets[m], parameters, "layer", order, seed) for m in measures}
        some = rankings[measures[0]]
        for fraction in fractions:
            masks = {m: np.concatenate([mask.ravel() for mask in r.masks(fraction)]) for m, r in rankings.items()}
            k, n = some.cuts(fraction).astype(float), some.scope_sizes.astype(float)
            common = float(np.sum(k * k / n))
            independent = common / float(np.sum(2 * k - k * k / n)) if k.sum() else float("nan")
            for a, b in itertools.combinations(measures, 2):
                rows.append({"order": order, "threshold": float(fraction), "measure_a": a, "measure_b": b,
                             "num_removed": int(k.sum()), "jaccard": jaccard(masks[a], masks[b]),
                             "independent_jaccard": independent})
    return pd.DataFrame(rows)


def allocation_table(sets: dict[str, ImportanceSet], fractions, parameters: str = "all", seed: int = 0,
                     orders=("least",)) -> pd.DataFrame:
    """The fraction of each selected tensor that a ``scope="model"`` ranking removes at each overall fraction."""
    rows = []
    fractions = [float(f) for f in fractions]
    for measure, importances in sorted(sets.items()):
        layer_ranking = rank_weights(importances, parameters, "layer", "least", seed)
        layer_fractions = np.array([layer_ranking.cuts(f) / layer_ranking.scope_sizes for f in fractions])
        for order in orders:
            ranking = rank_weights(importances, parameters, "model", order, seed)
            total = int(ranking.scope_sizes[0])
            cuts = np.array([int(ranking.cuts(f)[0]) for f in fractions])
            for tensor, ranks, scope, layer_scope in zip(importances.tensors, ranking.ranks,
                                                         ranking.tensor_scopes, layer_ranking.tensor_scopes):
                if scope < 0:
                    continue
                removed = np.searchsorted(np.sort(ranks.ravel()), cuts, side="left") / tensor.size
                for fraction, cut, share, layer_share in zip(fractions, cuts, removed,
                                                             layer_fractions[:, layer_scope]):
                    rows.append({"measure": measure, "order": order, "threshold": fraction,
                                 "overall_fraction": cut / total, "tensor": tensor.label, "layer": tensor.layer,
                                 "kind": tensor.kind, "num_weights": tensor.size, "fraction_removed": float(share),
                                 "layer_scope_fraction": float(layer_share)})
    return pd.DataFrame(rows)


def distribution_table(sets: dict[str, ImportanceSet]) -> pd.DataFrame:
    """Per measure and tensor: quantiles, mean, fraction zero and negative of the importances."""
    rows = []
    for measure, importances in sorted(sets.items()):
        for tensor, values in zip(importances.tensors, importances.arrays):
            values = values.ravel()
            quantiles = np.quantile(values, QUANTILES)
            rows.append({"measure": measure, "tensor": tensor.label, "layer": tensor.layer, "kind": tensor.kind,
                         "num_weights": values.size,
                         **{f"q{round(100 * q):02d}": float(v) for q, v in zip(QUANTILES, quantiles)},
                         "mean": float(values.mean()), "fraction_zero": float(np.mean(values == 0)),
                         "fraction_negative": float(np.mean(values < 0))})
    return pd.DataFrame(rows)
