"""Which layer owns each trainable weight.

Grouping (units, filters, layers) needs the layer that created each entry of ``model.trainable_weights``. Layers
are found by walking the model recursively (a nested ``Sequential`` or functional model is walked into, as are
layers that hold sublayers), and variables are matched to layers by identity (``is``), never by name: names are
not unique across nested models and change with the order in which models are built.
"""

from __future__ import annotations

import keras


def _sublayers(layer) -> list:
    """The direct sublayers of ``layer``: a model's ``layers``, or the sublayers a plain layer tracks."""
    if isinstance(layer, keras.Model):
        return list(layer.layers)
    # Layers such as MultiHeadAttention own sublayers without exposing a public ``layers`` list.
    flatten = getattr(layer, "_flatten_layers", None)
    return list(flatten(include_self=False, recursive=False)) if flatten is not None else []


def _layers_post_order(model) -> list:
    """Every layer reachable from ``model`` (itself included), sublayers before the layer that holds them."""
    ordered, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        for sublayer in _sublayers(layer):
            visit(sublayer)
        ordered.append(layer)

    visit(model)
    return ordered


def owning_layers(model: keras.Model, variables: list | None = None) -> list:
    """The innermost layer owning each of ``variables`` (default: ``model.trainable_weights``), in that order.

    A layer's ``trainable_weights`` include those of its sublayers, so layers are visited sublayers first and the
    first (innermost) layer listing a variable owns it. A variable created by the model itself (no sublayer lists
    it) is owned by the model.
    """
    variables = list(model.trainable_weights) if variables is None else list(variables)
    wanted = {id(variable): variable for variable in variables}
    owner_of: dict[int, object] = {}
    for layer in _layers_post_order(model):
        for variable in layer.trainable_weights:
            key = id(variable)
            if key in wanted and wanted[key] is variable and key not in owner_of:
                owner_of[key] = layer
    missing = [variable.path for variable in variables if id(variable) not in owner_of]
    if missing:
        raise ValueError(f"Could not find the layer owning the trainable weights {missing} in model {model.name!r}.")
    return [owner_of[id(variable)] for variable in variables]
