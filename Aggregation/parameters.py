"""Parameters: which trainable tensors are thresholded at all.

A selection is a predicate ``(layer, variable) -> bool`` over every ``model.trainable_weights`` entry and the
layer owning it (``structure.owning_layers``). Tensors are recognised by their owning layer's class and by
identity (``variable is layer.kernel``), never by variable name. A tensor that is not selected belongs to no
group, is never ranked, its masks are all False and it is never replaced; fractions count selected weights only.

- ``all`` (default): every trainable tensor.
- ``kernels``: the kernels of Dense, EinsumDense and convolution layers (Conv1D/2D/3D, transposed, depthwise,
  and both the depthwise and pointwise kernels of separable convolutions; subclasses included). Biases,
  normalization parameters, embeddings and every other tensor are left alone. EinsumDense is a Dense layer
  with a general contraction (the query/key/value/output projections of ``MultiHeadAttention`` are
  EinsumDense), so its kernel is a kernel. Embedding tables are not: they are looked up, not multiplied, and
  pruning studies that prune "the weights" (OpenLTH's prunable layers, movement pruning) leave them out too.
  Recurrent layers (LSTM, GRU, SimpleRNN) are not included.
- ``no_normalization``: every trainable tensor except those of normalization layers (BatchNormalization,
  LayerNormalization, GroupNormalization, RMSNormalization; UnitNormalization has no weights), which rescale
  and shift activations rather than connect units.
"""

from __future__ import annotations

import keras

from Aggregation.levels import CONVOLUTION_LAYERS

KERNEL_LAYERS = (keras.layers.Dense, keras.layers.EinsumDense) + CONVOLUTION_LAYERS
KERNEL_ATTRIBUTES = ("kernel", "depthwise_kernel", "pointwise_kernel")
NORMALIZATION_LAYERS = tuple(
    getattr(keras.layers, name)
    for name in ("BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization",
                 "UnitNormalization")
    if hasattr(keras.layers, name)
)


def all_parameters(layer, variable) -> bool:
    """Every trainable tensor."""
    return True


def kernel_parameters(layer, variable) -> bool:
    """The kernel(s) of a Dense, EinsumDense or convolution layer, found by identity."""
    return isinstance(layer, KERNEL_LAYERS) and any(
        variable is getattr(layer, name, None) for name in KERNEL_ATTRIBUTES
    )


def no_normalization_parameters(layer, variable) -> bool:
    """Every trainable tensor not owned by a normalization layer."""
    return not isinstance(layer, NORMALIZATION_LAYERS)
