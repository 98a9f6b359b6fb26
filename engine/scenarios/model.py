"""What a scenario file says, as immutable data: scenarios, their steps and expectations, flows not testable."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# step actions; each step has exactly one of them as a key
ACTIONS = ("complete", "wait", "timer", "service", "override", "cancel", "message", "signal", "repeat", "expect")
SERVICE_OUTCOMES = ("delivered", "failed", "error")
STATUSES = ("running", "completed", "error", "cancelled", "stalled")
CHECK_OUTCOMES = ("passed", "failed", "overridden")
DEFAULT_MAX_STEPS = 200
HARD_MAX_STEPS = 2000


@dataclass(frozen=True)
class Expectation:
    """What must hold after a step or at the end; every field left out is not checked."""

    status: str | None = None
    end_events: tuple[str, ...] = ()
    open: tuple[str, ...] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, tuple[str, ...]] = field(default_factory=dict)  # check -> outcomes in order (or the last)
    checks_exact: frozenset[str] = frozenset()  # checks given as a list: the whole sequence must match
    path: tuple[str, ...] = ()
    not_visited: tuple[str, ...] = ()
    sla_breached: tuple[str, ...] = ()
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    line: int | None = None
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.line)


@dataclass(frozen=True)
class Step:
    """One thing the scenario does to its incident (`action`), with what it needs."""

    action: str
    line: int | None
    target: str | None = None  # element id, check name, message or signal name
    data: dict[str, Any] = field(default_factory=dict)
    duration: str | None = None  # wait
    reason: str | None = None  # override, cancel
    outcome: str = "delivered"  # service: delivered | failed | error
    code: str | None = None  # service with outcome error: the BPMN error code
    correlation: dict[str, Any] = field(default_factory=dict)  # message
    times: int = 1  # repeat
    steps: tuple[Step, ...] = ()  # repeat
    expect: Expectation | None = None

    def describe(self) -> str:
        if self.action == "repeat":
            return f"repeat {self.times} times"
        if self.action == "wait":
            return f"wait {self.duration}"
        if self.action == "expect":
            return "expect"
        return f"{self.action} {self.target}" if self.target else self.action


@dataclass(frozen=True)
class Scenario:
    name: str
    line: int | None
    start: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    steps: tuple[Step, ...] = ()
    expect: Expectation | None = None
    max_steps: int = DEFAULT_MAX_STEPS


@dataclass(frozen=True)
class NotTestable:
    """A sequence flow the designer declares cannot be exercised by a scenario, and why (the approver reads it)."""

    flow: str
    reason: str
    line: int | None = None


@dataclass(frozen=True)
class Suite:
    scenarios: tuple[Scenario, ...]
    not_testable: tuple[NotTestable, ...] = ()
    procedure: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "scenarios": [{"name": s.name, "line": s.line} for s in self.scenarios],
                "not_testable": [{"flow": n.flow, "reason": n.reason, "line": n.line} for n in self.not_testable]}
