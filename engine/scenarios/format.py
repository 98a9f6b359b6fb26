"""The scenario file format: check a file's structure and turn it into a Suite, or refuse it naming each line.

```yaml
procedure: major_incident          # optional; when given it must be the version's key
scenarios:
  - name: P1 passes triage first time
    start: {priority: P1, summary: Payments down, caller_id: C-77}
    at: 2026-01-05T09:00:00Z       # optional: where the scenario's clock starts
    max_steps: 50                  # optional step cap (default 200, at most 2000)
    steps:
      - complete: Task_LogIncident # a user task by element id, with the form data to submit
        data: {summary: Payments down, caller_id: C-77, identity_verified: true}
        expect: {open: [Task_Triage]}
      - wait: PT4H                 # move the clock and fire what became due
      - timer: BoundaryEvent_Sla   # move the clock to that timer's deadline and fire it
      - service: Task_Notify       # a service task waiting on its delivery or an external worker: delivered
        outcome: error             #   (the default), failed, or error with the BPMN error code a worker reports
        code: CARD_DECLINED
      - override: triage_complete  # a supervisor overrides the failed check, with a reason
        reason: caller known to the desk
      - message: Customer replied  # a message by its name, with data (variables) and correlation keys
      - signal: Major outage       # a signal by its name, with data (variables)
      - cancel: duplicate report   # cancel the incident with that reason
      - repeat: 3                  # the nested steps, three times (a rework loop)
        steps: [...]
    expect:                        # at the end: any of
      status: completed            # running | completed | error | cancelled
      end_event: EndEvent_Closed   # or a list
      open: []                     # the user tasks open, by element id (order ignored)
      variables: {priority: P1}
      checks: {triage_complete: passed}        # the last outcome, or a list: every outcome in order
      path: [Task_LogIncident, Task_Triage]    # reached in this order (others may come between)
      not_visited: [Task_VerifyCallerIdentity]
      sla_breached: [BoundaryEvent_Sla]
      decisions: {Task_Decide: {risk: high}}   # a decision's outputs
      error: loop cap              # text the incident's error contains (status error)
not_testable:
  - flow: Flow_X
    reason: only reachable when the CRM is down; exercised in the quarterly drill
```
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from engine.calendar import parse_duration
from engine.errors import Invalid, Problem

from .located import LDict, line_of, load
from .model import (
    ACTIONS,
    CHECK_OUTCOMES,
    DEFAULT_MAX_STEPS,
    HARD_MAX_STEPS,
    SERVICE_OUTCOMES,
    STATUSES,
    Expectation,
    NotTestable,
    Scenario,
    Step,
    Suite,
)

MAX_SCENARIOS = 200
MAX_NESTING = 5
_STEP_OPTIONS = {"complete": {"data"}, "wait": set(), "timer": set(), "service": {"outcome", "data", "code"},
                 "override": {"reason"}, "cancel": set(), "message": {"data", "correlation"},
                 "signal": {"data"}, "repeat": {"steps"}, "expect": set()}
_EXPECT_KEYS = ("status", "end_event", "open", "variables", "checks", "path", "not_visited", "sla_breached",
                "decisions", "error")


class _Reader:
    """Walks the loaded file, collecting every problem with its line."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, message: str, line: int | None, field: str) -> None:
        self.problems.append(Problem(message, field=field, line=line, rule="scenarios.format"))

    def mapping(self, value: Any, line: int | None, field: str, allowed: set[str] | tuple[str, ...]) -> LDict | None:
        if not isinstance(value, dict):
            self.fail("expected a mapping (key: value)", line, field)
            return None
        for key in value:
            if key not in allowed:
                self.fail(f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}", line_of(value, key),
                          f"{field}.{key}")
        return value if isinstance(value, LDict) else None

    def text(self, parent: Any, key: str, field: str, *, required: bool = False) -> str | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(f"{key} is required", line_of(parent), field)
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float) or str(value).strip() == "":
            self.fail(f"{key} must be non-empty text", line_of(parent, key), field)
            return None
        return str(value).strip()

    def names(self, parent: Any, key: str, field: str) -> tuple[str, ...]:
        value = parent.get(key)
        items = value if isinstance(value, list) else [value]
        if any(not isinstance(v, str) or not v.strip() for v in items):
            self.fail(f"{key} must be an element id or a list of them", line_of(parent, key), field)
            return ()
        return tuple(v.strip() for v in items)

    def data(self, parent: Any, key: str, field: str) -> dict[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"{key} must be a mapping of names to values", line_of(parent, key), field)
            return {}
        return _plain(value)

    # --- the parts of the file ------------------------------------------------------------------------

    def suite(self, root: Any) -> Suite:
        top = self.mapping(root, line_of(root) or 1, "", {"procedure", "scenarios", "not_testable"})
        if top is None:
            return Suite(())
        raw = top.get("scenarios")
        scenarios: list[Scenario] = []
        if not isinstance(raw, list) or not raw:
            self.fail("scenarios must be a non-empty list", line_of(top, "scenarios") or line_of(top), "scenarios")
        elif len(raw) > MAX_SCENARIOS:
            self.fail(f"at most {MAX_SCENARIOS} scenarios per file", line_of(top, "scenarios"), "scenarios")
        else:
            for index, item in enumerate(raw):
                found = self.scenario(item, line_of(raw, index), f"scenarios[{index}]")
                if found is not None:
                    scenarios.append(found)
            self._unique_names(scenarios)
        return Suite(tuple(scenarios), self.not_testable(top), self.text(top, "procedure", "procedure"))

    def _unique_names(self, scenarios: list[Scenario]) -> None:
        seen: set[str] = set()
        for scenario in scenarios:
            if scenario.name in seen:
                self.fail(f"two scenarios are named {scenario.name!r}", scenario.line, "scenarios")
            seen.add(scenario.name)

    def not_testable(self, top: LDict) -> tuple[NotTestable, ...]:
        raw = top.get("not_testable")
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail("not_testable must be a list of {flow, reason}", line_of(top, "not_testable"), "not_testable")
            return ()
        found = []
        for index, item in enumerate(raw):
            field = f"not_testable[{index}]"
            entry = self.mapping(item, line_of(raw, index), field, {"flow", "reason"})
            if entry is None:
                continue
            flow = self.text(entry, "flow", f"{field}.flow", required=True)
            reason = self.text(entry, "reason", f"{field}.reason", required=True)
            if flow and reason:
                found.append(NotTestable(flow, reason, line_of(raw, index)))
        return tuple(found)

    def scenario(self, item: Any, line: int | None, field: str) -> Scenario | None:
        entry = self.mapping(item, line, field, {"name", "start", "at", "steps", "expect", "max_steps"})
        if entry is None:
            return None
        name = self.text(entry, "name", f"{field}.name", required=True) or f"scenario {line}"
        at = None
        if entry.get("at") is not None:
            try:
                at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
            except ValueError:
                self.fail("at must be an ISO 8601 date-time", line_of(entry, "at"), f"{field}.at")
        cap = entry.get("max_steps", DEFAULT_MAX_STEPS)
        if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= HARD_MAX_STEPS:
            self.fail(f"max_steps must be a whole number from 1 to {HARD_MAX_STEPS}", line_of(entry, "max_steps"),
                      f"{field}.max_steps")
            cap = DEFAULT_MAX_STEPS
        steps = self.steps(entry.get("steps"), line_of(entry, "steps") or line_of(entry), f"{field}.steps", 0)
        expect = self.expectation(entry["expect"], line_of(entry, "expect"), f"{field}.expect") \
            if "expect" in entry else None
        return Scenario(name, line, self.data(entry, "start", f"{field}.start"), at, steps, expect, cap)

    def steps(self, raw: Any, line: int | None, field: str, depth: int) -> tuple[Step, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.fail("steps must be a list", line, field)
            return ()
        if depth > MAX_NESTING:
            self.fail(f"repeat may nest at most {MAX_NESTING} deep", line, field)
            return ()
        found = []
        for index, item in enumerate(raw):
            step = self.step(item, line_of(raw, index), f"{field}[{index}]", depth)
            if step is not None:
                found.append(step)
        return tuple(found)

    def step(self, item: Any, line: int | None, field: str, depth: int) -> Step | None:
        if not isinstance(item, dict):
            self.fail(f"a step is a mapping with one of: {', '.join(ACTIONS)}", line, field)
            return None
        actions = [key for key in item if key in ACTIONS and key != "expect"] or \
            [key for key in item if key == "expect"]
        if len(actions) != 1:
            self.fail(f"a step has exactly one of: {', '.join(ACTIONS)} (found {', '.join(actions) or 'none'})",
                      line, field)
            return None
        action = actions[0]
        extra = {"expect"} if action != "expect" else set()
        entry = self.mapping(item, line, field, {action, *_STEP_OPTIONS[action], *extra})
        if entry is None:
            return None
        expect = None
        if action == "expect":
            expect = self.expectation(entry["expect"], line_of(entry, "expect"), f"{field}.expect")
            return Step("expect", line, expect=expect)
        if "expect" in entry:
            expect = self.expectation(entry["expect"], line_of(entry, "expect"), f"{field}.expect")
        if action == "repeat":
            times = entry.get("repeat")
            if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= HARD_MAX_STEPS:
                self.fail(f"repeat takes a count from 1 to {HARD_MAX_STEPS}", line, f"{field}.repeat")
                times = 1
            nested = self.steps(entry.get("steps"), line_of(entry, "steps") or line, f"{field}.steps", depth + 1)
            if not nested:
                self.fail("repeat needs steps", line, f"{field}.steps")
            return Step("repeat", line, times=times, steps=nested, expect=expect)
        if action == "wait":
            duration = self.text(entry, "wait", f"{field}.wait", required=True)
            if duration is not None:
                try:
                    parse_duration(duration, datetime(2026, 1, 1, tzinfo=UTC))
                except ValueError as err:
                    self.fail(f"wait takes an ISO 8601 duration such as PT4H: {err}", line, f"{field}.wait")
            return Step("wait", line, duration=duration, expect=expect)
        target = self.text(entry, action, f"{field}.{action}", required=True)
        outcome = str(entry.get("outcome", "delivered"))
        code = self.text(entry, "code", f"{field}.code") if action == "service" else None
        if action == "service" and outcome not in SERVICE_OUTCOMES:
            self.fail(f"outcome is one of {', '.join(SERVICE_OUTCOMES)}", line_of(entry, "outcome"), f"{field}.outcome")
        if action == "service" and (outcome == "error") != (code is not None):
            self.fail("outcome error takes the BPMN error `code` a worker reports (and only it does)",
                      line_of(entry, "code") or line, f"{field}.code")
        reason = self.text(entry, "reason", f"{field}.reason", required=action == "override")
        if action == "cancel":
            reason = target
        return Step(action, line, target=target, data=self.data(entry, "data", f"{field}.data"),
                    reason=reason, outcome=outcome, correlation=self.data(entry, "correlation", f"{field}.correlation"),
                    code=code, expect=expect)

    def expectation(self, raw: Any, line: int | None, field: str) -> Expectation | None:
        entry = self.mapping(raw, line, field, _EXPECT_KEYS)
        if entry is None:
            return None
        status = self.text(entry, "status", f"{field}.status")
        if status is not None and status not in STATUSES:
            self.fail(f"status is one of {', '.join(STATUSES)}", line_of(entry, "status"), f"{field}.status")
        checks, exact = self._checks(entry, f"{field}.checks")
        decisions = {}
        for element, outputs in self.data(entry, "decisions", f"{field}.decisions").items():
            if not isinstance(outputs, dict):
                self.fail("a decision's expected outcome is a mapping of output names to values",
                          line_of(entry, "decisions"), f"{field}.decisions.{element}")
                continue
            decisions[element] = outputs
        listed = {key: self.names(entry, key, f"{field}.{key}") if key in entry else ()
                  for key in ("end_event", "path", "not_visited", "sla_breached")}
        open_tasks = None
        if "open" in entry:
            open_tasks = () if entry["open"] in ([], None) else self.names(entry, "open", f"{field}.open")
        return Expectation(
            status=status, end_events=listed["end_event"], open=open_tasks,
            variables=self.data(entry, "variables", f"{field}.variables"), checks=checks, checks_exact=exact,
            path=listed["path"], not_visited=listed["not_visited"], sla_breached=listed["sla_breached"],
            decisions=decisions, error=self.text(entry, "error", f"{field}.error"), line=line,
            lines=dict(entry.key_lines))

    def _checks(self, entry: LDict, field: str) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
        raw = entry.get("checks")
        if raw is None:
            return {}, frozenset()
        if not isinstance(raw, dict):
            self.fail("checks maps a check name to an outcome or a list of outcomes", line_of(entry, "checks"), field)
            return {}, frozenset()
        found, exact = {}, set()
        for name, value in raw.items():
            outcomes = value if isinstance(value, list) else [value]
            if not outcomes or any(o not in CHECK_OUTCOMES for o in outcomes):
                self.fail(f"a check outcome is one of {', '.join(CHECK_OUTCOMES)}", line_of(raw, name), f"{field}.{name}")
                continue
            found[name] = tuple(outcomes)
            if isinstance(value, list):
                exact.add(name)
        return found, frozenset(exact)


def _plain(value: Any) -> Any:
    """Line-aware containers back to plain dicts and lists (what the engine's services take)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def parse(raw: bytes | str, kind: str | None = None) -> Suite:
    """The Suite a scenario file describes; Invalid listing every problem with its line otherwise."""
    reader = _Reader()
    suite = reader.suite(load(raw, kind))
    if reader.problems:
        first = reader.problems[0]
        where = f" (line {first.line})" if first.line else ""
        raise Invalid(f"the scenario file is not valid{where}: {first.message}", reader.problems)
    return suite
