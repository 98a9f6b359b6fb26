"""The debrief record of a scripted major incident, assembled from its audit rows alone, and its Markdown."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.monitoring.debrief import assemble, is_major
from engine.monitoring.debrief_markdown import render

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LANES = {"Task_LogIncident": "service-desk", "Task_Triage": "incident-managers",
         "Task_VerifyCallerIdentity": "service-desk", "Task_Debrief": "incident-managers"}


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Trail:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, minutes: int, kind: str, element: str | None = None, *, to: str | None = None,
            frm: str | None = None, actor: str | None = None, data: Any = None, task: str | None = None,
            element_type: str | None = None) -> None:
        self.rows.append({"id": len(self.rows) + 1, "at": at(minutes), "kind": kind, "element_id": element,
                          "element_name": element and element.removeprefix("Task_"), "element_type": element_type,
                          "from_state": frm, "to_state": to, "actor": actor, "data": data, "task_id": task})

    def task(self, element: str, ready: int, done: int, actor: str, data: Any = None) -> None:
        self.add(ready, "task", element, frm=None, to="ready", task=element + str(ready), element_type="userTask")
        self.add(done, "task", element, frm="ready", to="completed", actor=actor, data=data, task=element + str(ready),
                 element_type="userTask")


INCIDENT = {"id": "inc-1", "reference": "CRM-1042", "procedure_key": "major_incident", "procedure_version": 1,
            "status": "completed", "data": {"priority": "P2", "summary": "Payments line down"},
            "created_at": at(0), "ended_at": at(240)}


def scripted() -> list[dict[str, Any]]:
    trail = Trail()
    trail.add(0, "incident_started", to="running", actor="agent-1", data=INCIDENT["data"])
    trail.task("Task_LogIncident", 0, 10, "agent-1")
    trail.task("Task_Triage", 10, 30, "im-1")
    trail.add(30, "gateway", "Gateway_TriageCheck", to="completed", actor="im-1",
              data={"taken": [{"flow": "Flow_TriageFailed", "name": "fail"}]})
    trail.add(30, "check_failed", "Gateway_TriageCheck", to="failed", actor="im-1",
              data={"check": "triage_complete", "values": {"identity_verified": False}, "attempt": 1})
    trail.add(30, "task", "Task_VerifyCallerIdentity", frm="likely", to="ready", task="v1", element_type="userTask")
    trail.add(50, "check_overridden", "Gateway_TriageCheck", to="overridden", actor="sup-1",
              data={"check": "triage_complete", "attempt": 1, "reason": "known caller"})
    trail.add(50, "task", "Task_VerifyCallerIdentity", frm="ready", to="cancelled", actor="sup-1", task="v1",
              element_type="userTask")
    trail.add(110, "sla_breached", "BoundaryEvent_DiagnosisSla", to="fired",
              data={"task": "Task_Diagnose", "due_at": at(80).isoformat(), "fired_at": at(110).isoformat(),
                    "late_by": 1800})
    trail.task("Task_Debrief", 200, 235, "im-2", data={
        "lessons_learned": "Verify callers before triage.", "actions": "- Add a caller check to the form\n"
        "- Train the night shift", "action_owner": "im-2", "actions_due": "2026-04-01"})
    trail.add(240, "incident_completed", to="completed", actor="im-2")
    return trail.rows


def test_major_is_the_procedure_flag_or_priority_p1() -> None:
    assert is_major({"major": "true"}, {"priority": "P3"}) == (True, "the procedure is marked major")
    assert is_major({}, {"priority": "p1"}) == (True, "the incident's priority is P1")
    assert is_major({"major": "false"}, {"priority": "P2"}) == (False, None)


def test_debrief_record_of_a_scripted_major_incident() -> None:
    record = assemble(INCIDENT, list(reversed(scripted())), {"major": "true"}, LANES)
    assert record["major"] and record["incident"]["duration_s"] == 14400.0
    assert record["incident"]["reference"] == "CRM-1042" and record["incident"]["priority"] == "P2"
    assert len(record["timeline"]) == 14 and record["timeline"][0]["kind"] == "incident_started"
    assert record["timeline"][-1]["kind"] == "incident_completed"           # ordered, whatever the input order
    assert record["checks_failed"] == [{"at": at(30), "check": "triage_complete", "gateway_id": "Gateway_TriageCheck",
                                        "attempt": 1, "values": {"identity_verified": False}, "actor": "im-1"}]
    assert record["overrides"] == [{"at": at(50), "check": "triage_complete", "gateway_id": "Gateway_TriageCheck",
                                    "attempt": 1, "actor": "sup-1", "reason": "known caller"}]
    [breach] = record["sla_breaches"]
    assert (breach["element_id"], breach["task"], breach["late_by"]) == ("BoundaryEvent_DiagnosisSla",
                                                                         "Task_Diagnose", 1800)
    assert [(p["element_id"], p["lane"], p["outcome"], p["duration_s"], p["actor"]) for p in record["phases"]] == [
        ("Task_LogIncident", "service-desk", "completed", 600.0, "agent-1"),
        ("Task_Triage", "incident-managers", "completed", 1200.0, "im-1"),
        ("Task_VerifyCallerIdentity", "service-desk", "cancelled", 1200.0, "sup-1"),
        ("Task_Debrief", "incident-managers", "completed", 2100.0, "im-2")]
    assert record["lanes"] == [{"lane": "service-desk", "duration_s": 1800.0},
                               {"lane": "incident-managers", "duration_s": 3300.0}]
    assert [(p["actor"], p["transitions"], p["tasks_completed"]) for p in record["participants"]] == [
        ("agent-1", 2, ["Task_LogIncident"]), ("im-1", 3, ["Task_Triage"]), ("sup-1", 2, []),
        ("im-2", 2, ["Task_Debrief"])]
    assert record["debrief"] == {
        "lessons_learned": "Verify callers before triage.", "recorded_at": at(235), "recorded_by": "im-2",
        "element_id": "Task_Debrief",
        "actions": [{"action": "Add a caller check to the form", "owner": "im-2", "due": "2026-04-01"},
                    {"action": "Train the night shift", "owner": "im-2", "due": "2026-04-01"}]}


def test_actions_may_be_a_list_with_their_own_owners() -> None:
    trail = Trail()
    trail.task("Task_Debrief", 0, 5, "im-2", data={"lessons_learned": "x", "actions": [
        {"action": "Fix the runbook", "owner": "ops-1", "due": "2026-04-02"}, "Buy a pager"],
        "action_owner": "im-9"})
    record = assemble({**INCIDENT, "data": {"priority": "P1"}}, trail.rows)
    assert record["major_because"] == "the incident's priority is P1"
    assert record["debrief"]["actions"] == [{"action": "Fix the runbook", "owner": "ops-1", "due": "2026-04-02"},
                                            {"action": "Buy a pager", "owner": "im-9", "due": None}]


def test_a_running_incident_has_an_interim_record() -> None:
    rows = scripted()[:5]
    record = assemble({**INCIDENT, "status": "running", "ended_at": None}, rows, {"major": "true"}, LANES)
    assert record["incident"]["duration_s"] is None and record["debrief"]["lessons_learned"] is None
    assert record["debrief"]["actions"] == [] and len(record["phases"]) == 2


def test_markdown() -> None:
    text = render(assemble(INCIDENT, scripted(), {"major": "true"}, LANES))
    assert text.startswith("# Debrief: Payments line down\n")
    assert "- Incident: `inc-1` (reference CRM-1042)" in text
    assert "duration 4h" in text and "major because the procedure is marked major" in text
    assert "## Lessons learned\n\nVerify callers before triage.\n" in text
    assert "| Add a caller check to the form | im-2 | 2026-04-01 |" in text
    assert "| 2026-03-02 09:50:00 UTC | triage_complete | 1 | sup-1 | known caller |" in text
    assert "| BoundaryEvent_DiagnosisSla | 2026-03-02T10:20:00+00:00 | 30m |" in text
    assert "| Triage | incident-managers | 2026-03-02 09:10:00 UTC | 2026-03-02 09:30:00 UTC | completed | 20m | im-1 |" \
        in text
    assert "| 2026-03-02 09:30:00 UTC | gateway | Gateway_TriageCheck | - | completed | im-1 | took fail |" in text
    assert text.count("\n## ") == 9
