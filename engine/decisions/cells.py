"""Compile the cells of a decision once (FEEL, or `${...}` JUEL through the safe expression evaluator)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import Problem

from . import feel_eval
from .feel import FeelError, parse_expression, parse_unary_tests
from .model import Cell, Decision

_FEEL = ("", "feel", "sfeel", "s-feel")
_JUEL = ("juel",)


@dataclass(frozen=True)
class CompiledCell:
    kind: str  # "feel" | "juel"
    tree: Any

    def value(self, context: Mapping[str, Any]) -> Any:
        if self.kind == "juel":
            return self.tree.evaluate(dict(context), missing_as_none=True)
        return feel_eval.evaluate(self.tree, context)

    def test(self, value: Any, context: Mapping[str, Any]) -> bool:
        if self.kind == "juel":
            return self.tree.evaluate({**context, "cellInput": value}, missing_as_none=True) is True
        return feel_eval.matches(self.tree, value, context)


@dataclass(frozen=True)
class CompiledDecision:
    decision: Decision
    inputs: tuple[CompiledCell, ...]
    rules: tuple[tuple[tuple[CompiledCell, ...], tuple[CompiledCell, ...]], ...]
    literal: CompiledCell | None


def _language(cell: Cell) -> str:
    raw = (cell.language or "").strip().lower()
    if raw.endswith("/feel/") or raw.endswith("/feel"):
        return "feel"
    return raw


def compile_cell(cell: Cell, unary: bool) -> CompiledCell:
    """Raises FeelError (FEEL) or ExpressionError (JUEL) for a cell that cannot run."""
    from engine.expressions import compile_expression

    language, text = _language(cell), cell.text.strip()
    if language in _JUEL or (language in _FEEL and text.startswith(("${", "#{"))):
        return CompiledCell("juel", compile_expression(text))
    if language not in _FEEL:
        raise FeelError(f"expression language '{cell.language}' is not supported (FEEL, or JUEL in ${{...}})")
    tree = parse_unary_tests(text) if unary else parse_expression(text)
    _fold(tree)
    return CompiledCell("feel", tree)


def _fold(tree: Any) -> None:
    """Evaluate every part without names now, so `2 ** 99999` is refused at deploy, not when it runs."""
    if not isinstance(tree, tuple) or not tree:
        return
    if tree[0] in ("bin", "neg") and not _has_names(tree):
        feel_eval.evaluate(tree, {})
        return
    for part in tree[1:]:
        if isinstance(part, tuple):
            if part and isinstance(part[0], tuple):  # a tuple of tests
                for item in part:
                    _fold(item)
            else:
                _fold(part)


def _has_names(tree: Any) -> bool:
    if not isinstance(tree, tuple):
        return False
    return tree[:1] == ("name",) or any(_has_names(p) for p in tree[1:])


def compile_decision(decision: Decision) -> tuple[CompiledDecision | None, list[Problem]]:
    """The decision's cells compiled, or one problem per cell that cannot run (naming decision, rule, cell)."""
    from engine.expressions import ExpressionError

    problems: list[Problem] = []

    def attempt(cell: Cell, unary: bool, where: str, line: int | None) -> CompiledCell | None:
        try:
            return compile_cell(cell, unary)
        except (FeelError, ExpressionError) as err:
            shown = " ".join(cell.text.split())[:60]
            problems.append(Problem(message=f"decision {decision.id}, {where} ('{shown}'): {err}",
                                    element_id=decision.id, line=line, rule="dmn.feel"))
            return None

    inputs = tuple(attempt(c, False, f"input expression {i + 1}", decision.line)
                   for i, c in enumerate(decision.inputs))
    rules = tuple(
        (tuple(attempt(c, True, f"rule {r.id}, input entry {i + 1}", r.line) for i, c in enumerate(r.inputs)),
         tuple(attempt(c, False, f"rule {r.id}, output entry {i + 1}", r.line) for i, c in enumerate(r.outputs)))
        for r in decision.rules)
    literal = attempt(decision.literal, False, "literal expression", decision.line) if decision.literal else None
    if problems:
        return None, problems
    return CompiledDecision(decision, inputs, rules, literal), []  # type: ignore[arg-type]
