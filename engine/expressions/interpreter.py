"""The interpreter: walks a checked AST over task data with size, time and power limits."""
from __future__ import annotations

import ast
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .builtins import BUILTINS, METHODS, _str, _text_size
from .checks import _BINOPS, _CMPOPS, _UNARY, _check, _parse
from .limits import (
    ALIASES,
    MAX_ALLOCATED,
    MAX_EXPONENT,
    MAX_INT_BITS,
    MAX_LENGTH,
    MAX_SOURCE,
    TIME_BUDGET,
    ExpressionError,
)
from .normalize import normalize


def _kind(value: Any) -> str:
    return "string" if isinstance(value, str | bytes) else type(value).__name__


def _value(value: Any, what: str) -> Any:
    if callable(value):
        raise ExpressionError(f"{what} is a function, not a value")
    return value


def _binop(kind: type, a: Any, b: Any) -> Any:
    """Apply an arithmetic operator, refusing (before computing) results that would be too big."""
    ints = isinstance(a, int) and isinstance(b, int)
    seqs = str | bytes | list | tuple
    if kind is ast.Pow:
        if isinstance(b, int | float) and b > MAX_EXPONENT:
            raise ExpressionError("exponent too large")
        if ints and b > 0 and a.bit_length() * b > MAX_INT_BITS:
            raise ExpressionError("exponent too large")
    elif kind is ast.Mult:
        for seq, n in ((a, b), (b, a)):
            if isinstance(seq, seqs) and isinstance(n, int) and len(seq) * n > MAX_LENGTH:
                raise ExpressionError(f"{_kind(seq)} result too long")
            # [big_string] * n is short but heavy: sorting or comparing it would take minutes
            if isinstance(seq, list | tuple) and isinstance(n, int) and n * _text_size(seq) > MAX_ALLOCATED:
                raise ExpressionError(f"{_kind(seq)} result too large")
        if ints and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise ExpressionError("number too large")
    elif kind is ast.Add and isinstance(a, seqs) and isinstance(b, seqs):
        if len(a) + len(b) > MAX_LENGTH:
            raise ExpressionError(f"{_kind(a)} result too long")
        if isinstance(a, list | tuple) and _text_size(a) + _text_size(b) > MAX_ALLOCATED:
            raise ExpressionError(f"{_kind(a)} result too large")
    elif kind is ast.Mod and isinstance(a, str | bytes):
        raise ExpressionError("string formatting with % is not allowed")
    result = _BINOPS[kind](a, b)
    if isinstance(result, int) and result.bit_length() > MAX_INT_BITS:
        raise ExpressionError("number too large")
    if isinstance(result, float) and not math.isfinite(result):
        raise ExpressionError("the result is not a finite number (NaN or Infinity cannot be stored)")
    return result


def cpu_deadline(budget: float) -> float:
    """The thread CPU time at which an evaluation given `budget` seconds of CPU must stop.

    CPU time, not wall-clock time: on a starved machine a correct expression waits for the processor without
    spending its budget, while a hostile one (which can only spend time by computing) is still stopped."""
    return time.thread_time() + budget


class _Run:
    """One evaluation: the data, the functions and the deadline (thread CPU time, cpu_deadline)."""

    def __init__(self, data: Mapping[str, Any], functions: Any, missing_as_none: bool, deadline: float) -> None:
        self.data, self.functions, self.missing, self.deadline = data, functions or {}, missing_as_none, deadline
        self.allocated = 0
        self.nodes = 0  # the CPU clock is read every 16 nodes (a read costs about as much as a node)

    def sized(self, value: Any) -> Any:
        """Refuse a computed str/bytes/container that is too long, or too much computed in total."""
        if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
            if len(value) > MAX_LENGTH:
                raise ExpressionError(f"{_kind(value)} result too long")
            self.allocated += len(value)
            if self.allocated > MAX_ALLOCATED:
                raise ExpressionError("expression builds too much data")
        return value

    def eval(self, node: Any) -> Any:  # one dispatch over the node types of the language
        self.nodes += 1
        if self.nodes & 15 == 1 and time.thread_time() > self.deadline:
            raise ExpressionError("expression took too long to evaluate (its CPU time budget is spent)")
        kind = type(node)
        if kind is ast.Constant:
            return node.value
        if kind is ast.Name:
            return self.name(node.id)
        if kind in (ast.List, ast.Tuple, ast.Set):
            return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[kind](self.eval(e) for e in node.elts)
        if kind is ast.Dict:
            return {self.eval(k): self.eval(v) for k, v in zip(node.keys, node.values, strict=True)}
        if kind is ast.BoolOp:
            for operand in node.values:  # `or` returns the first truthy value, `and` the first falsy one
                value = self.eval(operand)
                if bool(value) is isinstance(node.op, ast.Or):
                    break
            return value
        if kind is ast.UnaryOp:
            return _UNARY[type(node.op)](self.eval(node.operand))
        if kind is ast.BinOp:
            return self.sized(_binop(type(node.op), self.eval(node.left), self.eval(node.right)))
        if kind is ast.Compare:
            left = self.eval(node.left)
            for cmp, right_node in zip(node.ops, node.comparators, strict=True):
                right = self.eval(right_node)
                if not _CMPOPS[type(cmp)](left, right):
                    return False
                left = right
            return True
        if kind is ast.IfExp:
            return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)
        if kind is ast.Subscript:
            return self.subscript(self.eval(node.value), self.eval(node.slice))
        if kind is ast.Slice:
            return slice(*(None if p is None else self.eval(p) for p in (node.lower, node.upper, node.step)))
        if kind is ast.Call:
            return self.call(node)
        if kind is ast.JoinedStr:
            return self.sized("".join(self.eval(v) for v in node.values))
        if kind is ast.FormattedValue:
            return _str(self.eval(node.value), {ord("r"): repr, ord("a"): ascii}.get(node.conversion, str))
        raise ExpressionError(f"'{kind.__name__}' is not allowed")  # unreachable after _check

    def name(self, key: str) -> Any:
        if key in ALIASES:
            return ALIASES[key]
        try:
            return _value(self.data[key], f"'{key}'")
        except KeyError:
            if self.missing:
                return None
            raise ExpressionError(f"name '{key}' is not defined") from None

    def subscript(self, target: Any, key: Any) -> Any:
        if not isinstance(target, Mapping | Sequence):
            raise ExpressionError(f"'{type(target).__name__}' values cannot be indexed")
        try:
            return _value(target[key], "the item")
        except KeyError:
            raise ExpressionError(f"key {key!r} not found") from None
        except IndexError:
            raise ExpressionError(f"index {key!r} out of range") from None

    def call(self, node: ast.Call) -> Any:
        func = node.func
        target = self.eval(func.value) if isinstance(func, ast.Attribute) else None
        args = [self.eval(a) for a in node.args]
        kwargs = {str(k.arg): self.eval(k.value) for k in node.keywords}  # `**x` was refused by _check
        if isinstance(func, ast.Name):
            fn = self.functions.get(func.id) or BUILTINS.get(func.id)
            if fn is None:
                raise ExpressionError(f"function '{func.id}' is not available")
            return _value(self.sized(fn(*args, **kwargs)), "the result of a call")
        attr = func.attr  # type: ignore[attr-defined]
        if not any(isinstance(target, kind) and attr in names for kind, names in METHODS):
            raise ExpressionError(f"method '{attr}' is not allowed on {type(target).__name__} values")
        result = getattr(target, attr)(*args, **kwargs)
        return _value(self.sized(list(result) if attr in ("keys", "values", "items") else result), "the result")


def _guarded(compute: Callable[..., Any], source: str, *args: Any) -> Any:
    """Run `compute(*args)`, turning every failure into an ExpressionError."""
    try:
        return compute(*args)
    except ExpressionError as err:
        err.expression = err.expression or source
        raise
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", source) from None
    except MemoryError:
        raise ExpressionError("expression needs too much memory", source) from None
    except Exception as err:  # whatever an operator or a function raised
        raise ExpressionError(f"{type(err).__name__}: {err}", source) from err


@dataclass(frozen=True, eq=False)
class CompiledExpression:
    """A validated expression; immutable, so one instance is shared between threads."""

    source: str
    normalized: str
    names: frozenset[str]
    tree: ast.expr = field(repr=False)

    def evaluate(self, data: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None,
                 missing_as_none: bool = False) -> Any:
        return _guarded(_Run(data, functions, missing_as_none, cpu_deadline(TIME_BUDGET)).eval, self.source,
                        self.tree)


@lru_cache(maxsize=4096)
def _compile(text: str, allowed: frozenset[str] | None) -> CompiledExpression:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_SOURCE:
        raise ExpressionError(f"expression is longer than {MAX_SOURCE} characters", text)
    normalized = normalize(text)
    tree = _parse(normalized, "eval", text).body  # type: ignore[attr-defined]
    names = _check(tree, allowed, text)
    fold_constants(tree, text)
    return CompiledExpression(text, normalized, names, tree)


def fold_constants(tree: ast.AST, text: str) -> None:
    """Evaluate arithmetic on literals now, so `9**9**9` or `'x'*10**10` is refused at upload, not at run time."""
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and not any(isinstance(n, ast.Name | ast.Call) for n in ast.walk(node)):
            _guarded(_Run({}, None, False, cpu_deadline(TIME_BUDGET)).eval, text, node)


def compile_expression(text: str, allowed_functions: frozenset[str] = frozenset()) -> CompiledExpression:
    """Normalise and validate `text`; `allowed_functions` names the caller-provided functions."""
    return _compile(text, frozenset(allowed_functions))


def evaluate(text: str, data: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None,
             missing_as_none: bool = False) -> Any:
    """Compile (cached) and evaluate `text` over `data`."""
    return compile_expression(text, frozenset(functions or ())).evaluate(data, functions, missing_as_none)


def names_used(text: str) -> frozenset[str]:
    """The data names an expression reads (any function name is accepted here)."""
    return _compile(text, None).names
