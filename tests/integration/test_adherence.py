"""Adherence figures match a scripted set of incidents exactly, per version, with `since` and `version`."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import clock
from engine.errors import Forbidden, NotFound
from engine.services import audit, checks, incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.support.procedures import deploy_active

BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHECK = "triage_complete"
START = {"priority": "P3", "summary": "queue slow", "caller_id": "C-9"}


@pytest.fixture
def fixed_clock() -> Iterator[clock.FixedClock]:
    now = clock.FixedClock(T0)
    token = clock.use(now)
    yield now
    clock.reset(token)


class Script:
    """Drives major-incident incidents through the services, one line per scripted step."""

    def __init__(self, engine: IncidentEngine, now: clock.FixedClock) -> None:
        self.engine, self.now = engine, now

    def tick(self) -> None:
        self.now.advance(timedelta(minutes=1))

    def task(self, incident: dict[str, Any], element_id: str) -> str:
        [found] = [t["id"] for t in incident["open_tasks"] if t["element_id"] == element_id]
        return found

    def complete(self, incident: dict[str, Any], element_id: str, data: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return tasks.complete(self.engine, self.task(incident, element_id), data, actor="agent")

    def reach(self, verified: bool) -> dict[str, Any]:
        """Start an incident on the active version and take it to the check (verified or not)."""
        self.tick()
        incident, _ = incidents.start(self.engine, procedure="major_incident", data=START)
        incident = self.complete(incident, "Task_LogIncident",
                                 {"summary": "s", "caller_id": "C-9", "identity_verified": verified})
        return self.complete(incident, "Task_Triage", {"priority": "P2", "priority_reason": "r"})

    def verify(self, incident: dict[str, Any], verified: bool) -> dict[str, Any]:
        return self.complete(incident, "Task_VerifyCallerIdentity", {"identity_verified": verified})

    def override(self, incident: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return checks.override_check(self.engine, incident["id"], CHECK, reason="known caller", actor="sup-1")


def _figures(report: dict[str, Any]) -> dict[int, dict[str, int]]:
    return {v["version"]: {k: c[k] for k in ("reached", "passed_first_time", "failed_then_passed",
                                              "overridden", "still_failing")}
            for v in report["versions"] for c in v["checks"] if c["check"] == CHECK}


def _counts(reached: int, first: int = 0, then: int = 0, overridden: int = 0, still: int = 0) -> dict[str, int]:
    return {"reached": reached, "passed_first_time": first, "failed_then_passed": then,
            "overridden": overridden, "still_failing": still}


def test_adherence_figures_match_a_scripted_set_of_incidents(engine: IncidentEngine,
                                                            fixed_clock: clock.FixedClock) -> None:
    data = (BUNDLED / "major_incident.bpmn").read_bytes()
    deploy_active(engine, data)
    deploy_active(engine, BUNDLED / "customer_complaint.bpmn")
    run = Script(engine, fixed_clock)
    assert _figures(checks.adherence(engine, "major_incident")) == {1: _counts(0)}

    run.reach(True)                                     # A: passed first time
    run.verify(run.reach(False), True)                  # B: failed then passed
    c = run.verify(run.reach(False), False)             # C: failed twice ... (passes after `since`)
    run.reach(False)                                    # D: still failing
    run.verify(run.reach(False), False)                 # E: still failing, two attempts
    f = run.override(run.reach(False))                  # F: overridden
    assert "Task_Diagnose" in {t["element_id"] for t in f["open_tasks"]}
    run.override(run.verify(run.reach(False), False))   # G: failed twice, then overridden
    incidents.start(engine, procedure="major_incident", data=START)  # H: never reaches the check
    complaint, _ = incidents.start(engine, procedure="customer_complaint", data={
        "received_at": "2026-03-02T09:00:00+00:00", "customer_name": "A", "channel": "phone"})
    run.complete(complaint, "Task_AcknowledgeComplaint",
                 {"acknowledged": True, "customer_email": "a@b.c", "contact_verified": False})

    fixed_clock.advance(timedelta(hours=1))
    since = fixed_clock.now()
    run.verify(c, True)                                 # C: ... then passed
    run.reach(True)                                     # L: v1 passed first time, after `since`
    deploy_active(engine, data + b"<!-- v2 -->\n")     # v2 goes live, v1 retires
    run.reach(True)                                     # J: v2 passed first time
    run.override(run.reach(False))                      # K: v2 overridden

    report = checks.adherence(engine, "major_incident")
    assert report["procedure"] == "major_incident" and report["since"] is None
    assert _figures(report) == {1: _counts(8, first=2, then=2, overridden=2, still=2),
                                2: _counts(2, first=1, overridden=1)}
    assert _figures(checks.adherence(engine, "major_incident", since=since)) == {
        1: _counts(1, first=1), 2: _counts(2, first=1, overridden=1)}
    assert _figures(checks.adherence(engine, "major_incident", version=2)) == {
        2: _counts(2, first=1, overridden=1)}
    complaint_report = checks.adherence(engine, "customer_complaint")
    assert [(c["check"], c["reached"], c["still_failing"]) for c in complaint_report["versions"][0]["checks"]] \
        == [("contact_verified", 1, 1)]
    with pytest.raises(NotFound):
        checks.adherence(engine, "major_incident", version=3)


def test_overrides_are_audited_and_counted_apart(engine: IncidentEngine, fixed_clock: clock.FixedClock) -> None:
    deploy_active(engine, BUNDLED / "major_incident.bpmn")
    run = Script(engine, fixed_clock)
    incident = run.verify(run.reach(False), False)
    with pytest.raises(Forbidden):
        checks.override_check(engine, incident["id"], CHECK, reason="x", actor="agent-1",
                              principal={"roles": ["agent"]})
    moved = checks.override_check(engine, incident["id"], CHECK, reason="called back", actor="sup-2",
                                  principal={"roles": ["supervisor"]})
    assert "Task_Diagnose" in {t["element_id"] for t in moved["open_tasks"]}
    [status] = checks.incident_checks(engine, incident["id"])
    assert (status["outcome"], status["attempts"]) == ("overridden", 2)
    assert status["overrides"] == [{"actor": "sup-2", "reason": "called back", "at": fixed_clock.now(),
                                    "attempt": 2}]
    assert _figures(checks.adherence(engine, "major_incident")) == {1: _counts(1, overridden=1)}
    trail = [r for r in audit.for_incident(engine, incident["id"]) if r["kind"].startswith("check_")]
    assert [(r["kind"], r["actor"], r["data"]["attempt"]) for r in trail] == [
        ("check_failed", "agent", 1), ("check_failed", "agent", 2), ("check_overridden", "sup-2", 2)]
    assert trail[-1]["data"]["reason"] == "called back"
