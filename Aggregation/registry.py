"""Registry: the names of every level, method, scope, order and replacement, and their implementations.

These literal dicts are the external interface of the package: adding a level, method or replacement is one
function in ``levels.py``, ``methods.py`` or ``replacements.py`` plus one line here. The names are the values of
the results CSV's ``aggregation_level``, ``aggregation_method``, ``scope``, ``order`` and ``replacement`` columns.
Scopes and orders are not pluggable (they are two branches of the ranking in ``ranking.py``), so they are
listed by name only.
"""

from __future__ import annotations

from Aggregation import levels, methods, replacements

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

REPLACEMENT_FUNCTIONS = {
    "noise": replacements.noise_values,
    "zero": replacements.zero_values,
}

LEVELS = tuple(LEVEL_FUNCTIONS)
METHODS = tuple(METHOD_FUNCTIONS)
SCOPES = ("layer", "model")
ORDERS = ("least", "most")
REPLACEMENTS = tuple(REPLACEMENT_FUNCTIONS)


def check_choice(kind: str, value, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise a ValueError naming it and the valid ones."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Unknown {kind} {value!r}; valid {kind}s are {list(choices)}.")
    return value
