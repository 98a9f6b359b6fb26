"""The functions and methods an expression may call, each bounded in what it can build."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .limits import MAX_ALLOCATED, MAX_EXPONENT, MAX_LENGTH, ExpressionError


def _sum(values: Any, start: Any = 0) -> Any:
    items = list(values)
    if not all(isinstance(v, int | float) for v in [*items, start]):
        raise ExpressionError("sum() only adds numbers")
    return sum(items, start)


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and abs(ndigits) > MAX_EXPONENT:
        raise ExpressionError("round() precision too large")
    return round(number, ndigits)


def _text_size(value: Any, budget: int = MAX_ALLOCATED, depth: int = 0) -> int:
    """Roughly how long str(value) is; stops counting once over `budget`."""
    if isinstance(value, str | bytes):
        return len(value) + 2
    if isinstance(value, int):
        return value.bit_length() * 3 // 10 + 1
    if not isinstance(value, Mapping | list | tuple | set | frozenset):
        return 32
    total = budget + 1 if depth > 50 else 2
    for item in value.items() if isinstance(value, Mapping) else value:
        if total > budget:
            break
        total += 2 + _text_size(item, budget - total, depth + 1)
    return total


def _str(value: Any = "", conversion: Callable[[Any], str] = str) -> str:
    if _text_size(value, MAX_LENGTH) > MAX_LENGTH:
        raise ExpressionError("string result too long")
    return conversion(value)


def _float(value: Any = 0.0) -> float:
    """float(), refusing NaN and Infinity: task data is stored as JSON, which has neither."""
    result = float(value)
    if not math.isfinite(result):
        raise ExpressionError("float() gave NaN or Infinity, which cannot be stored")
    return result


BUILTINS: Mapping[str, Callable[..., Any]] = {
    "len": len, "str": _str, "int": int, "float": _float, "bool": bool, "min": min, "max": max, "abs": abs,
    "round": _round, "sum": _sum, "any": any, "all": all, "sorted": sorted,
}
_SEQ_METHODS = frozenset({"count", "index"})
METHODS: tuple[tuple[type, frozenset[str]], ...] = (
    (str, frozenset({"lower", "upper", "strip", "startswith", "endswith", "split", "count", "index"})),
    (dict, frozenset({"get", "keys", "values", "items"})),
    (list, _SEQ_METHODS),
    (tuple, _SEQ_METHODS),
)
_ALL_METHODS = frozenset().union(*(names for _, names in METHODS))
