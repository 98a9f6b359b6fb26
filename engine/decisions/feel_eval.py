"""Evaluate parsed FEEL trees over plain data, with FEEL's null semantics and bounds on numbers and strings."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .feel import FeelError

MAX_EXPONENT = 1_000
MAX_STRING = 10_000
MAX_NUMBER = 1e300


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(value: Any) -> Any:
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise FeelError("a number grew beyond the engine's bounds")
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            return value
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise FeelError(f"a string grew beyond {MAX_STRING} characters")
    return value


def _arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "+" and isinstance(a, str) and isinstance(b, str):
        return _bounded(a + b)
    if not (_is_number(a) and _is_number(b)):
        return None  # FEEL: a type mismatch is null, not an error
    if op == "+":
        return _bounded(a + b)
    if op == "-":
        return _bounded(a - b)
    if op == "*":
        return _bounded(a * b)
    if op == "/":
        return None if b == 0 else _bounded(a / b)
    if abs(b) > MAX_EXPONENT or (abs(a) > 1 and abs(b) * math.log10(abs(a)) > 300):
        raise FeelError(f"{a} ** {b} is too large a power")
    return _bounded(float(a) ** b if isinstance(b, float) or b < 0 else a ** b)


def compare(op: str, a: Any, b: Any) -> bool | None:
    """FEEL comparison: None (null) when the values cannot be compared."""
    if op in ("=", "!="):
        if a is None or b is None:
            same = a is None and b is None
        elif _is_number(a) and _is_number(b):
            same = a == b
        elif type(a) is not type(b):
            return None
        else:
            same = a == b
        return same if op == "=" else not same
    comparable = (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))
    if not comparable:
        return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate(tree: tuple[Any, ...], context: Mapping[str, Any]) -> Any:
    kind = tree[0]
    if kind == "lit":
        return tree[1]
    if kind == "name":
        return context.get(tree[1])
    if kind == "path":
        base = evaluate(tree[1], context)
        return base.get(tree[2]) if isinstance(base, Mapping) else None
    if kind == "neg":
        value = evaluate(tree[1], context)
        return -value if _is_number(value) else None
    if kind == "bin":
        return _arith(tree[1], evaluate(tree[2], context), evaluate(tree[3], context))
    if kind == "cmp":
        return compare(tree[1], evaluate(tree[2], context), evaluate(tree[3], context))
    if kind in ("and", "or"):
        left, right = evaluate(tree[1], context), evaluate(tree[2], context)
        values = [v if isinstance(v, bool) else None for v in (left, right)]
        if kind == "and":
            return False if False in values else None if None in values else True
        return True if True in values else None if None in values else False
    if kind == "if":
        return evaluate(tree[2] if evaluate(tree[1], context) is True else tree[3], context)
    raise FeelError(f"cannot evaluate {kind}")


def matches(tests: tuple[Any, ...], value: Any, context: Mapping[str, Any]) -> bool:
    """Does `value` (the input) satisfy the unary tests of an input entry?"""
    kind = tests[0]
    if kind == "any":
        return True
    if kind == "not":
        return not matches(tests[1], value, context)
    if kind == "anyof":
        return any(matches(t, value, context) for t in tests[1])
    if kind == "test":
        expected = evaluate(tests[2], context)
        if tests[1] == "=" and isinstance(expected, bool) and not isinstance(value, bool):
            return False
        return compare(tests[1], value, expected) is True
    if kind == "range":
        _, low_closed, low, high, high_closed = tests
        lo, hi = evaluate(low, context), evaluate(high, context)
        above = compare(">=" if low_closed else ">", value, lo)
        below = compare("<=" if high_closed else "<", value, hi)
        return above is True and below is True
    raise FeelError(f"cannot test {kind}")
