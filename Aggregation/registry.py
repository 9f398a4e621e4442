"""Registry: the names of every parameter selection, level, method, scope, order and replacement, and their
implementations.

These literal dicts are the external interface of the package: adding a selection, level, method, scope or
replacement is one function in ``parameters.py``, ``levels.py``, ``methods.py``, ``scopes.py`` or
``replacements.py`` plus one line here. The names are the values of the results CSV's ``aggregation_level``,
``aggregation_method``, ``scope``, ``order`` and ``replacement`` columns. Orders are not pluggable (they are two
signs of one sort key in ``ranking.py``), so they are listed by name only.
"""

from __future__ import annotations

from Aggregation import levels, methods, parameters, replacements, scopes

PARAMETER_FUNCTIONS = {
    "all": parameters.all_parameters,
    "kernels": parameters.kernel_parameters,
    "no_normalization": parameters.no_normalization_parameters,
}

LEVEL_FUNCTIONS = {
    "weight": levels.weight_groups,
    "unit": levels.unit_groups,
    "filter": levels.filter_groups,
    "layer": levels.layer_groups,
}

METHOD_FUNCTIONS = {
    "mean": methods.mean_method,
    "min": methods.min_method,
    "max": methods.max_method,
    "sum": methods.sum_method,
    "l2": methods.l2_method,
}

SCOPE_FUNCTIONS = {
    "layer": scopes.layer_scope,
    "model": scopes.model_scope,
    "tensor": scopes.tensor_scope,
}

REPLACEMENT_FUNCTIONS = {
    "noise": replacements.noise_values,
    "zero": replacements.zero_values,
}

PARAMETERS = tuple(PARAMETER_FUNCTIONS)
LEVELS = tuple(LEVEL_FUNCTIONS)
METHODS = tuple(METHOD_FUNCTIONS)
SCOPES = tuple(SCOPE_FUNCTIONS)
ORDERS = ("least", "most")
REPLACEMENTS = tuple(REPLACEMENT_FUNCTIONS)


def check_choice(kind: str, value, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise a ValueError naming it and the valid ones."""
    if not isinstance(value, str) or value not in choices:
        plural = kind if kind.endswith("s") else f"{kind}s"
        raise ValueError(f"Unknown {kind} {value!r}; valid {plural} are {list(choices)}.")
    return value
