"""Running one scenario's steps against an incident through a Driver, and judging the outcome.

The runner knows the scenario language; the Driver knows the engine (engine.services.scenario_store runs
the engine's own services on an isolated database). A bad scenario (an element the procedure does not
have, data a form refuses, a step the incident cannot take, a run past the step cap) fails that scenario
with the step, its line and the reason; it never stops the other scenarios.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from engine.bpmn.model import ProcedureDefinition
from engine.calendar import parse_duration
from engine.checks.declared import check_gateways

from .expect import Difference, Observed, compare
from .model import Expectation, Scenario, Step
from .path import Trail, read_trail

DEFAULT_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
_TASK_TYPES = ("userTask", "manualTask")


class StepRefused(Exception):
    """The engine refused a step (a form's 422, a task that is not open, an unsupported step kind)."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class Driver(Protocol):
    """One incident in an isolated engine, moved by scenario steps. Each call returns nothing; `observe`
    reads where the incident stands."""

    def start(self, data: dict[str, Any], at: datetime) -> None: ...
    def complete(self, element_id: str, data: dict[str, Any]) -> None: ...
    def wait(self, delta: timedelta, budget: int) -> int: ...  # rounds of timer firing used
    def fire_timer(self, element_id: str, budget: int) -> int: ...
    def service(self, element_id: str, outcome: str, data: dict[str, Any], code: str | None) -> None: ...
    def override(self, check: str, reason: str) -> None: ...
    def cancel(self, reason: str) -> None: ...
    def message(self, name: str, data: dict[str, Any], correlation: dict[str, Any]) -> None: ...
    def signal(self, name: str, data: dict[str, Any]) -> None: ...
    def status(self) -> tuple[str, tuple[str, ...], dict[str, Any], str | None]: ...  # status, open, variables, error
    def audit(self) -> list[dict[str, Any]]: ...
    def decisions(self) -> dict[str, dict[str, Any]]: ...
    def now(self) -> datetime: ...


@dataclass
class Failure:
    step: str | None  # "3" or "4.2" inside a repeat; None for the final expectation
    action: str | None
    line: int | None
    message: str
    difference: Difference | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.step, "action": self.action, "line": self.line, "message": self.message}
        if self.difference is not None:
            out.update(expected=self.difference.expected, actual=self.difference.actual,
                       what=self.difference.what, line=self.difference.line or self.line)
        if self.problems:
            out["problems"] = self.problems
        return out


@dataclass
class ScenarioResult:
    name: str
    line: int | None
    passed: bool
    steps_run: int
    status: str | None
    path: list[str]
    audit: list[dict[str, Any]]
    trail: Trail
    failure: Failure | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "line": self.line, "passed": self.passed, "steps_run": self.steps_run,
                "status": self.status, "path": self.path, "failure": self.failure.as_dict() if self.failure else None,
                "checks": self.trail.checks, "audit": self.audit}


class _Stop(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def _flatten(steps: tuple[Step, ...], prefix: str = "") -> Iterator[tuple[str, Step]]:
    """Every step in the order it runs, repeats unrolled, each with its number ("4[3].2": the 2nd step
    inside step 4, on its 3rd pass)."""
    for index, step in enumerate(steps, start=1):
        number = f"{prefix}{index}"
        if step.action == "repeat":
            for turn in range(1, step.times + 1):
                yield from _flatten(step.steps, f"{number}[{turn}].")
            if step.expect is not None:
                yield number, Step("expect", step.line, expect=step.expect)
        else:
            yield number, step


class ScenarioRun:
    """One scenario on one driver: `run()` returns its result and never raises for a bad scenario."""

    def __init__(self, definition: ProcedureDefinition, scenario: Scenario, driver: Driver) -> None:
        self.definition = definition
        self.scenario = scenario
        self.driver = driver
        self.used = 0

    def run(self) -> ScenarioResult:
        failure = None
        try:
            self._charge(None, None)
            self._engine(lambda: self.driver.start(dict(self.scenario.start), self.scenario.at or DEFAULT_START),
                         "start", "start", self.scenario.line)
            for number, step in _flatten(self.scenario.steps):
                self._step(number, step)
            if self.scenario.expect is not None:
                self._judge(None, "expect", self.scenario.expect)
        except _Stop as stop:
            failure = stop.failure
        return self._result(failure)

    def _result(self, failure: Failure | None) -> ScenarioResult:
        try:
            audit = self.driver.audit()
            status = self.driver.status()[0]
        except Exception as err:  # noqa: BLE001 - a scenario that never started has no incident
            audit, status = [], None
            failure = failure or Failure(None, None, self.scenario.line, f"the engine failed: {err}")
        trail = read_trail(self.definition, audit)
        return ScenarioResult(self.scenario.name, self.scenario.line, failure is None, self.used, status,
                              trail.path, audit, trail, failure)

    def _charge(self, number: str | None, step: Step | None, amount: int = 1) -> int:
        """Count `amount` steps against the cap; the budget left afterwards."""
        self.used += amount
        cap = self.scenario.max_steps
        if self.used > cap:
            raise _Stop(Failure(number, step.action if step else None, step.line if step else self.scenario.line,
                                f"the step cap ({cap}) was reached: the scenario runs too many steps; "
                                "raise max_steps or shorten its loops"))
        return cap - self.used

    def _engine(self, call: Any, number: str | None, action: str | None, line: int | None) -> Any:
        try:
            return call()
        except StepRefused as err:
            raise _Stop(Failure(number, action, line, str(err), problems=err.problems)) from None
        except _Stop:
            raise
        except Exception as err:  # noqa: BLE001 - a fault in one scenario must not stop the run
            raise _Stop(Failure(number, action, line, f"the engine failed: {type(err).__name__}: {err}")) from None

    def _element(self, number: str, step: Step, kinds: tuple[str, ...] | None = None) -> str:
        target = str(step.target)
        node = self.definition.nodes.get(target)
        if node is None:
            raise _Stop(Failure(number, step.action, step.line, f"the procedure has no element {target}"))
        if kinds is not None and node.type not in kinds:
            raise _Stop(Failure(number, step.action, step.line,
                                f"{target} is a {node.type}, not a {' or '.join(kinds)}"))
        return target

    def _step(self, number: str, step: Step) -> None:
        if step.action == "expect":
            assert step.expect is not None
            self._judge(number, "expect", step.expect, step.line)
            return
        left = self._charge(number, step)
        driver, action = self.driver, step.action
        run = lambda call: self._engine(call, number, action, step.line)  # noqa: E731
        if action == "complete":
            element = self._element(number, step, _TASK_TYPES)
            run(lambda: driver.complete(element, dict(step.data)))
        elif action == "wait":
            delta = parse_duration(str(step.duration), driver.now()) - driver.now()
            self._charge(number, step, run(lambda: driver.wait(delta, left)))
        elif action == "timer":
            element = self._element(number, step)
            if self.definition.nodes[element].timer is None:
                raise _Stop(Failure(number, action, step.line, f"{element} is not a timer event"))
            self._charge(number, step, run(lambda: driver.fire_timer(element, left)))
        elif action == "service":
            element = self._element(number, step, ("serviceTask", "sendTask"))
            run(lambda: driver.service(element, step.outcome, dict(step.data), step.code))
        elif action == "override":
            if step.target not in {c.name for c in check_gateways(self.definition).values()}:
                raise _Stop(Failure(number, action, step.line, f"the procedure has no check named {step.target}"))
            run(lambda: driver.override(str(step.target), str(step.reason)))
        elif action == "cancel":
            run(lambda: driver.cancel(str(step.reason)))
        elif action == "message":
            run(lambda: driver.message(str(step.target), dict(step.data), dict(step.correlation)))
        elif action == "signal":
            run(lambda: driver.signal(str(step.target), dict(step.data)))
        if step.expect is not None:
            self._judge(number, action, step.expect, step.line)

    def _judge(self, number: str | None, action: str, expectation: Expectation, line: int | None = None) -> None:
        seen = self._engine(self._observe, number, action, line)
        difference = compare(self.definition, expectation, seen)
        if difference is not None:
            where = f"after step {number}" if number else "at the end"
            raise _Stop(Failure(number, action, difference.line or line, f"{where}: {difference.message}",
                                difference))

    def _observe(self) -> Observed:
        status, open_tasks, variables, error = self.driver.status()
        return Observed(status, open_tasks, variables, read_trail(self.definition, self.driver.audit()), error,
                        self.driver.decisions())


def run_scenario(definition: ProcedureDefinition, scenario: Scenario, driver: Driver) -> ScenarioResult:
    return ScenarioRun(definition, scenario, driver).run()
