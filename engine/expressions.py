"""Safe evaluator for expressions and scripts in untrusted BPMN models: an AST interpreter, never eval/exec."""
from __future__ import annotations

import ast
import operator as op
import re
import textwrap
import time
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_SOURCE = 10_000          # characters of expression text
MAX_SCRIPT_SOURCE = 100_000  # characters of script text
MAX_NODES = 2_000            # AST nodes per expression
MAX_DEPTH = 100              # AST nesting per expression
MAX_LENGTH = 100_000         # items/characters of a computed str, bytes, list, tuple, dict or set
MAX_ALLOCATED = 1_000_000    # items/characters computed by one evaluation, all results together
MAX_EXPONENT = 100
MAX_INT_BITS = 13_300        # about 4000 decimal digits
TIME_BUDGET = 0.1            # seconds per expression
SCRIPT_TIME_BUDGET = 0.5     # seconds per script
ALIASES: Mapping[str, Any] = {"true": True, "false": False, "null": None}
SCRIPT_RULE = "script tasks may only contain assignments of the form name = expression"


class ExpressionError(Exception):
    """An expression or script that is not allowed, or that failed while being evaluated."""

    def __init__(self, message: str, expression: str | None = None, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.expression = expression
        self.line = line


class ExpressionSyntaxError(ExpressionError, SyntaxError):
    """Unparsable text; also a SyntaxError because SpiffWorkflow's DMN engine relies on that."""


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


BUILTINS: Mapping[str, Callable[..., Any]] = {
    "len": len, "str": _str, "int": int, "float": float, "bool": bool, "min": min, "max": max, "abs": abs,
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

# --- normalisation: Camunda JUEL wrappers and unquoted ISO 8601 timer literals -----------------------
_NUM = r"\d+(?:[.,]\d+)?"
_DUR = rf"P(?=[\dT])(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?(?:T(?=\d)(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?"
_DT = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_ISO = re.compile(rf"(?:{_DUR}|{_DT})|R\d*/(?:{_DUR}|{_DT})(?:/(?:{_DUR}|{_DT}))?")
_WRAPPED = re.compile(r"[$#]\{(.*)\}", re.S)
_STRING = re.compile(r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""", re.S)
_JUEL_TOKEN = re.compile(r"&&|\|\||!(?!=)|\b(?:eq|ne|lt|gt|le|ge|empty|div|mod)\b")
_JUEL = {"&&": "and", "||": "or", "!": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
         "ge": ">=", "empty": "not", "div": "/", "mod": "%"}


def _translate_juel(code: str) -> str:
    parts = _STRING.split(code)  # odd indices are string literals, left untouched
    for i in range(0, len(parts), 2):
        parts[i] = _JUEL_TOKEN.sub(lambda m: f" {_JUEL[m.group(0)]} ", parts[i])
    return "".join(parts).strip()


def normalize(text: str) -> str:
    """Strip a `${...}`/`#{...}` wrapper (translating JUEL), and quote a bare ISO 8601 literal."""
    stripped = text.strip()
    wrapped = _WRAPPED.fullmatch(stripped)
    if wrapped:
        stripped = _translate_juel(wrapped.group(1).strip())
    return repr(stripped) if _ISO.fullmatch(stripped) else stripped


# --- static checks ----------------------------------------------------------------------------------
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


# --- interpreter ------------------------------------------------------------------------------------
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
    return result


class _Run:
    """One evaluation: the data, the functions and the deadline."""

    def __init__(self, data: Mapping[str, Any], functions: Any, missing_as_none: bool, deadline: float) -> None:
        self.data, self.functions, self.missing, self.deadline = data, functions or {}, missing_as_none, deadline
        self.allocated = 0

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
        if time.perf_counter() > self.deadline:
            raise ExpressionError("expression took too long to evaluate")
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
        deadline = time.perf_counter() + TIME_BUDGET
        return _guarded(_Run(data, functions, missing_as_none, deadline).eval, self.source, self.tree)


@lru_cache(maxsize=4096)
def _compile(text: str, allowed: frozenset[str] | None) -> CompiledExpression:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_SOURCE:
        raise ExpressionError(f"expression is longer than {MAX_SOURCE} characters", text)
    normalized = normalize(text)
    tree = _parse(normalized, "eval", text).body  # type: ignore[attr-defined]
    return CompiledExpression(text, normalized, _check(tree, allowed, text), tree)


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


# --- scripts: lines of `name = expression` ----------------------------------------------------------
_REFUSED_STATEMENTS = {ast.Import: "import", ast.ImportFrom: "import", ast.FunctionDef: "def",
                       ast.ClassDef: "class", ast.For: "a for loop", ast.While: "a while loop",
                       ast.If: "an if statement", ast.With: "a with block", ast.Try: "a try block",
                       ast.Delete: "del", ast.Pass: "pass", ast.Expr: "a bare expression (such as a call)",
                       ast.AnnAssign: "an annotated assignment", ast.Attribute: "assignment to an attribute",
                       ast.Subscript: "assignment to an item", ast.Tuple: "an unpacking assignment",
                       ast.List: "an unpacking assignment"}


@dataclass(frozen=True, eq=False)
class ScriptStep:
    """One line: `targets = expr`, or `targets[0] <augment>= expr`."""

    line: int
    targets: tuple[str, ...]
    augment: type | None
    expr: CompiledExpression


@dataclass(frozen=True, eq=False)
class CompiledScript:
    """Validated assignments; immutable and thread-safe like CompiledExpression."""

    source: str
    assigned: frozenset[str]
    names: frozenset[str]
    steps: tuple[ScriptStep, ...] = field(repr=False)

    def execute(self, data: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] | None = None,
                missing_as_none: bool = False) -> dict[str, Any]:
        """Return the assignments, applied in order over `data` (which is not modified)."""
        made: dict[str, Any] = {}
        # one run for all lines: they share the deadline and the allocation budget
        scope = ChainMap(made, data)  # type: ignore[arg-type]  # read-only use of `data`
        run = _Run(scope, functions, missing_as_none, time.perf_counter() + SCRIPT_TIME_BUDGET)
        for step in self.steps:
            try:
                value = _guarded(run.eval, step.expr.source, step.expr.tree)
                if step.augment is not None:
                    current = run.name(step.targets[0])
                    value = _guarded(lambda *a: run.sized(_binop(*a)), step.expr.source, step.augment, current, value)
            except ExpressionError as err:
                raise ExpressionError(err.message, self.source, step.line) from err
            made.update(dict.fromkeys(step.targets, value))
        return made


def _step(node: ast.stmt, text: str, allowed: frozenset[str]) -> ScriptStep:
    def refuse(what: str) -> ExpressionError:
        return ExpressionError(f"{what} is not allowed: {SCRIPT_RULE}", text, node.lineno)

    if not isinstance(node, ast.Assign | ast.AugAssign):
        raise refuse(_REFUSED_STATEMENTS.get(type(node)) or f"'{type(node).__name__}'")
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if not isinstance(target, ast.Name):
            raise refuse(_REFUSED_STATEMENTS.get(type(target)) or "this kind of assignment")
        if target.id.startswith("__") or target.id in ALIASES:
            raise refuse(f"assigning to '{target.id}'")
    names = [t.id for t in targets]  # type: ignore[attr-defined]
    augment = type(node.op) if isinstance(node, ast.AugAssign) else None
    if augment is not None and augment not in _BINOPS:
        raise refuse(f"the operator {augment.__name__}=")
    try:
        reads = _check(node.value, allowed, text) | (frozenset(names) if augment else frozenset())
    except ExpressionError as err:
        raise ExpressionError(err.message, text, node.lineno) from None
    source = ast.get_source_segment(text, node.value) or ""
    return ScriptStep(node.lineno, tuple(names), augment, CompiledExpression(source, source, reads, node.value))


@lru_cache(maxsize=1024)
def _compile_script(text: str, allowed: frozenset[str]) -> CompiledScript:
    if not isinstance(text, str):
        raise ExpressionError(f"a script must be text, not {type(text).__name__}")
    if len(text) > MAX_SCRIPT_SOURCE:
        raise ExpressionError(f"script is longer than {MAX_SCRIPT_SOURCE} characters", text)
    source = textwrap.dedent(text)
    steps = tuple(_step(node, source, allowed) for node in _parse(source, "exec", text).body)  # type: ignore
    names: set[str] = set()
    assigned: set[str] = set()
    for step in steps:
        names |= step.expr.names - assigned
        assigned.update(step.targets)
    return CompiledScript(text, frozenset(assigned), frozenset(names), steps)


def compile_script(text: str, allowed_functions: frozenset[str] = frozenset()) -> CompiledScript:
    """Validate a script: lines of `name = expression` (or `name += expression`), blanks and comments."""
    return _compile_script(text, frozenset(allowed_functions))
