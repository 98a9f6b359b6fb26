"""What the lint reports: one Finding per rule broken, with the rule catalogue the README documents."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.errors import Problem

ERROR, WARNING = "error", "warning"

# rule id -> (severity, what it means); the order is the order of the README table.
RULES: dict[str, tuple[str, str]] = {
    "check.required": (ERROR, "every path from the start to a normal end (not an escalation or cancellation end) "
                              "passes through each required check; the finding names a path that does not"),
    "check.gateway": (ERROR, "the `check` property sits on an exclusive gateway, not on another element"),
    "check.flows": (ERROR, "a check gateway has exactly two outgoing flows: one pass flow with a condition, and "
                           "the default flow (or a flow named `fail`)"),
    "check.data": (ERROR, "every name a check's pass condition reads is collected by a form (or is declared "
                          "start data) upstream of the gateway, on every path to it"),
    "graph.unreachable": (ERROR, "every element can be reached from a start event"),
    "graph.dead_end": (ERROR, "every element can reach an end event"),
    "gateway.no_default": (WARNING, "an exclusive gateway with several outgoing flows has a default flow"),
    "loop.no_check": (WARNING, "every loop passes through a check gateway"),
    "task.no_owner": (WARNING, "every user task has a lane or a candidate group, so it shows in a queue"),
    "personal.retention": (ERROR, "the process property `retention` is an ISO 8601 duration (P2Y, P6M, P90D)"),
    "personal.undeclared": (WARNING, "a form field that looks like personal data (name, phone, email, address, "
                                     "date of birth, account) is declared personal (`personal_data` or the field "
                                     "property `personal`)"),
    "personal.no_retention": (WARNING, "a procedure with personal data declares its `retention`"),
    "personal.no_subject": (WARNING, "a procedure with personal data declares its `data_subject` variable"),
}


@dataclass(frozen=True)
class LintProblem(Problem):
    """A finding as an HTTP problem entry: the usual fields plus its severity and the path it names."""

    severity: str | None = None
    path: list[str] | None = None


@dataclass(frozen=True)
class Finding:
    """One broken rule at one element; `path` lists element ids from a start when the rule is about a path."""

    rule: str
    element_id: str | None
    message: str
    path: tuple[str, ...] | None = None
    line: int | None = None

    @property
    def severity(self) -> str:
        return RULES[self.rule][0]

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "element_id": self.element_id,
                "message": self.message, "path": list(self.path) if self.path is not None else None,
                "line": self.line}

    def as_problem(self) -> LintProblem:
        return LintProblem(message=self.message, element_id=self.element_id, line=self.line, rule=self.rule,
                           severity=self.severity, path=list(self.path) if self.path is not None else None)


def finding(definition: ProcedureDefinition, rule: str, element_id: str | None, message: str,
            path: list[str] | tuple[str, ...] | None = None) -> Finding:
    """A Finding with the element's source line filled in when the element is a flow node."""
    node = definition.nodes.get(element_id or "")
    return Finding(rule, element_id, message, tuple(path) if path is not None else None,
                   node.line if node is not None else None)


def arrow(path: list[str] | tuple[str, ...]) -> str:
    return " -> ".join(path)
