"""Static checks: refuse anything outside the language before a single node is evaluated."""
from __future__ import annotations

import ast
import operator as op
from collections.abc import Callable, Mapping
from typing import Any

from .builtins import _ALL_METHODS, BUILTINS
from .limits import ALIASES, MAX_DEPTH, MAX_NODES, ExpressionError, ExpressionSyntaxError

_BINOPS: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: op.add, ast.Sub: op.sub, ast.Mult: op.mul, ast.Div: op.truediv, ast.FloorDiv: op.floordiv,
    ast.Mod: op.mod, ast.Pow: op.pow,
}
_CMPOPS: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Eq: op.eq, ast.NotEq: op.ne, ast.Lt: op.lt, ast.LtE: op.le, ast.Gt: op.gt, ast.GtE: op.ge,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b, ast.Is: op.is_, ast.IsNot: op.is_not,
}
_UNARY: Mapping[type, Callable[[Any], Any]] = {ast.Not: op.not_, ast.USub: op.neg, ast.UAdd: op.pos}
_ALLOWED = (ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Dict, ast.Set,
            ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.BinOp, ast.Compare, ast.IfExp, ast.Subscript,
            ast.Slice, ast.Call, ast.keyword, ast.Attribute, ast.JoinedStr, ast.FormattedValue,
            *_BINOPS, *_CMPOPS, *_UNARY)
_REFUSED = {ast.Lambda: "lambda expressions are", ast.ListComp: "comprehensions are",
            ast.SetComp: "comprehensions are", ast.DictComp: "comprehensions are",
            ast.GeneratorExp: "generator expressions are", ast.NamedExpr: "assignment expressions (:=) are",
            ast.Starred: "starred arguments (*x) are", ast.Await: "await is", ast.Yield: "yield is",
            ast.YieldFrom: "yield is"}


def _parse(source: str, mode: str, original: str) -> ast.AST:
    try:
        return ast.parse(source, mode=mode)
    except SyntaxError as err:
        line = err.lineno if mode == "exec" else None
        raise ExpressionSyntaxError(f"syntax error: {err.msg}", original, line) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionSyntaxError("expression is too deeply nested or complex", original) from None


def _check(root: ast.AST, allowed: frozenset[str] | None, text: str) -> frozenset[str]:
    """Refuse anything outside the language; return the data names read. allowed=None: any function."""
    names: set[str] = set()
    stack, count = [(root, 1)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression is too complex (more than {MAX_NODES} parts)", text)
        if depth > MAX_DEPTH:
            raise ExpressionError("expression is nested too deeply", text)
        if not isinstance(node, _ALLOWED):
            what = _REFUSED.get(type(node)) or f"'{type(node).__name__}' is"
            raise ExpressionError(f"{what} not allowed", text)
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                raise ExpressionError(f"name '{node.id}' is not allowed", text)
            if node.id not in ALIASES:
                names.add(node.id)
        elif isinstance(node, ast.Attribute):
            raise ExpressionError(f"attribute access to '{node.attr}' is not allowed", text)
        elif isinstance(node, ast.Dict) and None in node.keys:
            raise ExpressionError("'**' unpacking is not allowed", text)
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
            raise ExpressionError("format specifications in f-strings are not allowed", text)
        elif isinstance(node, ast.Call):
            func, children = node.func, [*node.args, *node.keywords]
            if any(k.arg is None for k in node.keywords):
                raise ExpressionError("'**' unpacking is not allowed", text)
            if isinstance(func, ast.Name):
                if func.id.startswith("__") or (allowed is not None and func.id not in BUILTINS.keys() | allowed):
                    raise ExpressionError(f"function '{func.id}' is not allowed", text)
            elif isinstance(func, ast.Attribute):
                if func.attr.startswith("_"):
                    raise ExpressionError(f"attribute access to '{func.attr}' is not allowed", text)
                if func.attr not in _ALL_METHODS:
                    raise ExpressionError(f"method '{func.attr}' is not allowed", text)
                children.append(func.value)
            elif isinstance(func, _ALLOWED):
                raise ExpressionError("only named functions and allowed methods may be called", text)
            else:
                children.append(func)  # refused with its own message (e.g. lambda) when popped
        stack.extend((child, depth + 1) for child in children)
    return frozenset(names)
