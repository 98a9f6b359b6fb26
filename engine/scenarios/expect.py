"""Comparing what a scenario expects with what the engine did: the first difference, or None."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.bpmn.model import ProcedureDefinition

from .model import Expectation
from .path import Trail, follows_in_order


@dataclass(frozen=True)
class Observed:
    """The incident as a scenario sees it after a step."""

    status: str
    open: tuple[str, ...]
    variables: dict[str, Any]
    trail: Trail
    error: str | None = None
    decisions: dict[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class Difference:
    what: str
    expected: Any
    actual: Any
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "expected": self.expected, "actual": self.actual, "message": self.message,
                "line": self.line}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def unknown_elements(definition: ProcedureDefinition, expectation: Expectation,
                     called: Callable[[str], bool] | None = None) -> Difference | None:
    """An expectation that names an element the procedure does not have (an open task may also be one of a
    process its call activities start, when `called` says so)."""
    for key, names in (("open", expectation.open or ()), ("end_event", expectation.end_events),
                       ("path", expectation.path), ("not_visited", expectation.not_visited),
                       ("sla_breached", expectation.sla_breached), ("decisions", tuple(expectation.decisions))):
        missing = [n for n in names if n not in definition.nodes
                   and not (key == "open" and called is not None and called(n))]
        if missing:
            return Difference(key, missing, None, f"the procedure has no element {', '.join(missing)}",
                              expectation.line_of(key))
    return None


def compare(definition: ProcedureDefinition, expectation: Expectation, seen: Observed,
            called: Callable[[str], bool] | None = None) -> Difference | None:
    """The first thing `expectation` asks for that `seen` does not show."""
    unknown = unknown_elements(definition, expectation, called)
    if unknown is not None:
        return unknown
    at = expectation.line_of
    if expectation.status is not None and seen.status != expectation.status:
        detail = f" ({seen.error})" if seen.error else ""
        return Difference("status", expectation.status, seen.status,
                          f"the incident is {seen.status}{detail}, not {expectation.status}", at("status"))
    if expectation.error is not None and expectation.error.lower() not in (seen.error or "").lower():
        return Difference("error", expectation.error, seen.error,
                          f"the incident's error does not mention {expectation.error!r}", at("error"))
    if expectation.open is not None and sorted(expectation.open) != sorted(seen.open):
        return Difference("open", sorted(expectation.open), sorted(seen.open),
                          f"open tasks are {sorted(seen.open) or 'none'}, not {sorted(expectation.open) or 'none'}",
                          at("open"))
    ended = [e for e in seen.trail.path if (node := definition.nodes.get(e)) is not None and node.type == "endEvent"]
    missing_ends = [e for e in expectation.end_events if e not in ended]
    if missing_ends:
        return Difference("end_event", list(expectation.end_events), ended,
                          f"end event {missing_ends[0]} was not reached (reached: {', '.join(ended) or 'none'})",
                          at("end_event"))
    if expectation.path:
        ok, missing = follows_in_order(seen.trail.path, expectation.path)
        if not ok:
            return Difference("path", list(expectation.path), list(seen.trail.path),
                              f"{missing} was not reached in the expected order", at("path"))
    visited = [e for e in expectation.not_visited if e in seen.trail.entered or e in seen.trail.path]
    if visited:
        return Difference("not_visited", list(expectation.not_visited), visited,
                          f"{visited[0]} was reached", at("not_visited"))
    difference = _checks(expectation, seen)
    if difference is not None:
        return difference
    late = [t for t in expectation.sla_breached if t not in seen.trail.sla_breached]
    if late:
        return Difference("sla_breached", list(expectation.sla_breached), list(seen.trail.sla_breached),
                          f"SLA timer {late[0]} was not breached", at("sla_breached"))
    variables = _plain(seen.variables)
    for name, wanted in expectation.variables.items():
        actual = variables.get(name)
        if name not in variables or actual != _plain(wanted):
            return Difference(f"variables.{name}", wanted, actual,
                              f"{name} is {json.dumps(actual) if name in variables else 'not set'}, "
                              f"not {json.dumps(_plain(wanted))}", at("variables"))
    return _decisions(expectation, seen)


def _checks(expectation: Expectation, seen: Observed) -> Difference | None:
    for name, wanted in expectation.checks.items():
        actual = seen.trail.checks.get(name, [])
        if name in expectation.checks_exact:
            ok = list(wanted) == actual
        else:
            ok = bool(actual) and actual[-1] == wanted[-1]
        if not ok:
            shown = ", ".join(actual) or "not reached"
            return Difference(f"checks.{name}", list(wanted) if name in expectation.checks_exact else wanted[-1],
                              actual, f"check {name} was {shown}", expectation.line_of("checks"))
    return None


def _decisions(expectation: Expectation, seen: Observed) -> Difference | None:
    made = seen.decisions or {}
    for element, outputs in expectation.decisions.items():
        if element not in made:
            return Difference(f"decisions.{element}", outputs, None, f"decision {element} was not made",
                              expectation.line_of("decisions"))
        actual = _plain(made[element])
        for name, wanted in outputs.items():
            if actual.get(name) != _plain(wanted):
                return Difference(f"decisions.{element}.{name}", wanted, actual.get(name),
                                  f"decision {element} gave {name} = {json.dumps(actual.get(name))}",
                                  expectation.line_of("decisions"))
    return None
