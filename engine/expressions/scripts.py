"""Scripts: lines of `name = expression`, checked and run by the same interpreter."""
from __future__ import annotations

import ast
import textwrap
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .checks import _BINOPS, _check, _parse
from .interpreter import CompiledExpression, _binop, _guarded, _Run, cpu_deadline, fold_constants
from .limits import ALIASES, MAX_SCRIPT_SOURCE, SCRIPT_RULE, SCRIPT_TIME_BUDGET, ExpressionError

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
        run = _Run(scope, functions, missing_as_none, cpu_deadline(SCRIPT_TIME_BUDGET))
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
        fold_constants(node.value, text)
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
