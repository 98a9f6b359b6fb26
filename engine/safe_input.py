"""What outside text and JSON must be before the service stores it: no NUL, no lone surrogate, finite bounded numbers.

PostgreSQL refuses NUL bytes and unpaired surrogates in text, NaN in JSONB, and integers beyond its column
types; Python refuses integers over 4,300 digits and recurses on deep JSON. Each of those, unchecked, was a
500 somewhere. These are plain functions over plain values, applied at every edge before anything is stored.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

INT32_MAX = 2**31 - 1   # PostgreSQL `integer`: versions, numbers, limits, offsets
INT64_MAX = 2**63 - 1   # the largest integer a JSON value may carry (SQLite and PostgreSQL bigint)
MAX_JSON_DEPTH = 32     # nesting of objects and arrays in a request body
MAX_NUMBER_CHARS = 40   # digits (and sign, dot, exponent) of one JSON number
MAX_KEY_CHARS = 255     # stored keys: Idempotency-Key, user ids, group names, references


class UnsafeInput(ValueError):
    """A value the service will not store; `where` names the field (a dotted path) when known."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message, self.where = message, where


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode)"
    return None


def check_text(value: str, where: str | None = None, max_chars: int | None = None) -> str:
    """`value` unchanged, or UnsafeInput naming what is wrong with it."""
    problem = text_problem(value)
    if problem is None and max_chars is not None and len(value) > max_chars:
        problem = f"is longer than {max_chars} characters"
    if problem:
        raise UnsafeInput(problem, where)
    return value


def _number(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise UnsafeInput(f"a number longer than {MAX_NUMBER_CHARS} characters")


def _int(text: str) -> int:
    _number(text)
    value = int(text)
    if abs(value) > INT64_MAX:
        raise UnsafeInput("an integer beyond the 64-bit range")
    return value


def _float(text: str) -> float:
    _number(text)
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeInput("a number too large to represent (it would be Infinity)")
    return value


def _constant(name: str) -> Any:
    raise UnsafeInput(f"{name} is not a JSON number; NaN and Infinity are refused")


@dataclass(frozen=True)
class _Frame:
    value: Any
    path: str
    depth: int


def check_json(value: Any, where: str = "", max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`value` (already parsed JSON) unchanged, or UnsafeInput for the first bad string, number or depth."""
    stack = [_Frame(value, where, 0)]
    while stack:
        frame = stack.pop()
        node = frame.value
        if isinstance(node, str):
            check_text(node, frame.path or None)
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int):
            if abs(node) > INT64_MAX:
                raise UnsafeInput("an integer beyond the 64-bit range", frame.path or None)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise UnsafeInput("NaN and Infinity are refused", frame.path or None)
        elif isinstance(node, dict | list):
            if frame.depth >= max_depth:
                raise UnsafeInput(f"nested deeper than {max_depth} levels", frame.path or None)
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, item in items:
                path = f"{frame.path}.{key}" if frame.path else str(key)
                if isinstance(key, str):
                    check_text(key, path)
                stack.append(_Frame(item, path, frame.depth + 1))
    return value


def loads(text: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON document strictly: ValueError when it is not JSON, UnsafeInput when it is JSON we refuse."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except RecursionError:
        raise UnsafeInput(f"nested deeper than {max_depth} levels") from None
    return check_json(value, max_depth=max_depth)


def dumps(value: Any) -> str:
    """JSON for storage: NaN or Infinity (a model's arithmetic can make them) is an error, never stored."""
    return json.dumps(value, allow_nan=False)
