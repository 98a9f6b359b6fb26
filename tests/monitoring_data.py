"""A scripted monitoring data set: incident, task, check and audit rows with known timestamps.

The window is [T0, T0 + 24 h). The figures the tests expect are worked out by hand in the comments.
I0 (v1, P1) started 2 h before the window and completed in it; I1 (v1, P1) and I2 (v1, P2, two failed
checks and a rework loop through Verify caller identity, one SLA breach) completed; I3 (v1, P1) is still
open with Triage waiting; I4 (v1, P3) was cancelled; I5 (v1, P2) went into error; I6 (v2, P2) failed the
check, was overridden and completed; I7 starts after the window; a customer complaint shares the window.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from engine.db.tables import audit, check_results, incidents, tasks
from engine.services import procedures
from engine.services.engine_app import IncidentEngine

BUNDLED = Path(__file__).resolve().parent.parent / "bpmn"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(hours=24)
KEY = "major_incident"
LANES = {"Task_LogIncident": "service-desk", "Task_Triage": "incident-managers",
         "Task_VerifyCallerIdentity": "service-desk", "Task_Diagnose": "resolvers", "Task_Debrief": "incident-managers"}


def m(minutes: float) -> datetime:
    """T0 plus `minutes`."""
    return T0 + timedelta(minutes=minutes)


class Builder:
    """Inserts rows directly, the way the engine would have written them."""

    def __init__(self, engine: IncidentEngine) -> None:
        self.engine = engine
        self.audit: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.incidents: list[dict[str, Any]] = []
        self.procs: dict[tuple[str, int], dict[str, Any]] = {}

    def procedure(self, key: str, data: bytes) -> None:
        row, _ = procedures.deploy(self.engine, data)
        self.procs[(key, row["version"])] = row

    def event(self, inc: dict[str, Any], kind: str, at: datetime, **columns: Any) -> None:
        self.audit.append({"incident_id": inc["id"], "procedure_key": inc["procedure_key"],
                           "procedure_version": inc["procedure_version"], "kind": kind, "at": at,
                           **{c: None for c in ("task_id", "element_id", "element_name", "element_type",
                                                "from_state", "to_state", "actor", "data")}, **columns})

    def incident(self, name: str, start: datetime, priority: str, *, version: int = 1, key: str = KEY,
                 end: datetime | None = None, status: str = "running") -> dict[str, Any]:
        proc = self.procs[(key, version)]
        row = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"monitoring/{name}")), "procedure_id": proc["id"],
               "procedure_key": key, "procedure_version": version, "reference": name, "status": status,
               "data": {"priority": priority, "summary": f"incident {name}"}, "state": "{}", "row_version": 1,
               "created_at": start, "updated_at": end or start, "ended_at": end, "created_by": "agent-1"}
        self.incidents.append(row)
        self.event(row, "incident_started", start, to_state="running", data=row["data"], actor="agent-1")
        if end is not None and status in ("completed", "cancelled"):
            self.event(row, f"incident_{status}", end, to_state=status, actor="sup-1")
        return row

    def task(self, inc: dict[str, Any], element: str, ready: datetime, *, claimed: datetime | None = None,
             ended: datetime | None = None, state: str = "completed", actor: str = "agent-2",
             data: dict[str, Any] | None = None) -> None:
        task_id = str(uuid.uuid4())
        state = state if ended is not None else "ready"
        self.tasks.append({"id": task_id, "incident_id": inc["id"], "procedure_key": inc["procedure_key"],
                           "element_id": element, "name": element.removeprefix("Task_"), "lane": LANES.get(element),
                           "candidate_groups": [], "candidate_users": [], "assignee": None, "state": state,
                           "form": [], "created_at": ready, "claimed_at": claimed, "ended_at": ended,
                           "ended_by": actor if state == "completed" else None})
        columns = {"task_id": task_id, "element_id": element, "element_name": element.removeprefix("Task_"),
                   "element_type": "userTask"}
        self.event(inc, "task", ready, from_state=None, to_state="ready", **columns)
        if ended is not None:
            self.event(inc, "task", ended, from_state="ready", to_state=state, actor=actor, data=data, **columns)

    def check(self, inc: dict[str, Any], at: datetime, attempt: int, outcome: str, actor: str = "agent-2",
              reason: str | None = None) -> None:
        passed = outcome != "failed"
        flow = "Flow_TriagePassed" if passed else "Flow_TriageFailed"
        self.checks.append({"incident_id": inc["id"], "procedure_key": inc["procedure_key"],
                            "procedure_version": inc["procedure_version"], "check_name": "triage_complete",
                            "gateway_id": "Gateway_TriageCheck", "attempt": attempt, "outcome": outcome,
                            "flow_id": flow, "check_values": {"identity_verified": passed}, "actor": actor,
                            "reason": reason, "at": at})
        columns = {"element_id": "Gateway_TriageCheck", "element_type": "exclusiveGateway", "actor": actor}
        self.event(inc, "gateway", at, to_state="completed", data={"taken": [
            {"flow": flow, "target": "Gateway_ParallelSplit" if passed else "Task_VerifyCallerIdentity",
             "name": "passed: triage complete" if passed else "fail"}]}, **columns)
        self.event(inc, f"check_{outcome}", at, to_state=outcome, data={
            "check": "triage_complete", "values": {"identity_verified": passed}, "flow": flow, "attempt": attempt,
            **({"reason": reason} if reason else {})}, **columns)

    def save(self) -> None:
        with self.engine.uow() as uow:
            for table, rows in ((incidents, self.incidents), (tasks, self.tasks), (check_results, self.checks),
                                (audit, sorted(self.audit, key=lambda r: r["at"]))):
                if rows:
                    uow.conn.execute(table.insert(), rows)
            uow.commit()


def build(engine: IncidentEngine) -> Builder:
    """The data set of the module docstring."""
    data = (BUNDLED / "major_incident.bpmn").read_bytes()
    b = Builder(engine)
    b.procedure(KEY, data)
    b.procedure(KEY, data + b"<!-- v2 -->\n")
    b.procedure("customer_complaint", (BUNDLED / "customer_complaint.bpmn").read_bytes())

    i0 = b.incident("I0", m(-120), "P1", end=m(30), status="completed")           # cycle 9000 s
    b.task(i0, "Task_LogIncident", m(-120), claimed=m(-90), ended=m(-60))
    b.task(i0, "Task_Triage", m(-60), claimed=m(-30), ended=m(20))                # wait 1800, work 3000

    i1 = b.incident("I1", m(0), "P1", end=m(60), status="completed")              # cycle 3600 s
    b.task(i1, "Task_LogIncident", m(0), claimed=m(5), ended=m(10))               # wait 300, work 300
    b.task(i1, "Task_Triage", m(10), claimed=m(20), ended=m(25))                  # wait 600, work 300
    b.check(i1, m(25), 1, "passed")
    b.task(i1, "Task_Diagnose", m(25), claimed=m(45), ended=m(55))                # wait 1200, work 600

    i2 = b.incident("I2", m(60), "P2", end=m(180), status="completed")            # cycle 7200 s
    b.task(i2, "Task_LogIncident", m(60), claimed=m(70), ended=m(80))             # wait 600, work 600
    b.task(i2, "Task_Triage", m(80), ended=m(100))                                # wait 1200, never claimed
    b.check(i2, m(100), 1, "failed")
    b.task(i2, "Task_VerifyCallerIdentity", m(100), claimed=m(110), ended=m(120))  # wait 600, work 600
    b.check(i2, m(120), 2, "failed")
    b.task(i2, "Task_VerifyCallerIdentity", m(120), claimed=m(130), ended=m(140))  # again: a rework loop
    b.check(i2, m(140), 3, "passed")
    b.task(i2, "Task_Diagnose", m(140), claimed=m(150), ended=m(170))             # wait 600, work 1200
    b.event(i2, "sla_breached", m(170), element_id="BoundaryEvent_DiagnosisSla", element_name="Diagnosis SLA",
            element_type="boundaryEvent", data={"task": "Task_Diagnose", "due_at": m(140).isoformat(),
                                                "fired_at": m(170).isoformat(), "late_by": 1800})

    i3 = b.incident("I3", m(240), "P1")                                           # open at the end
    b.task(i3, "Task_LogIncident", m(240), claimed=m(270), ended=m(300))          # wait 1800, work 1800
    b.task(i3, "Task_Triage", m(300))                                             # open, 19 h old at UNTIL

    i4 = b.incident("I4", m(360), "P3", end=m(420), status="cancelled")
    b.task(i4, "Task_LogIncident", m(360), ended=m(420), state="cancelled")

    i5 = b.incident("I5", m(480), "P2", status="error")
    b.task(i5, "Task_LogIncident", m(480), ended=m(510))                          # wait 1800, never claimed
    b.event(i5, "incident_error", m(540), from_state="running", to_state="error", data={"reason": "boom"})

    i6 = b.incident("I6", m(600), "P2", version=2, end=m(660), status="completed")  # cycle 3600 s
    b.task(i6, "Task_LogIncident", m(600), claimed=m(615), ended=m(630))          # wait 900, work 900
    b.check(i6, m(640), 1, "failed")
    b.check(i6, m(645), 1, "overridden", actor="sup-1", reason="known caller")

    b.incident("I7", m(25 * 60), "P1")                                            # after the window
    b.incident("C1", m(60), "P1", key="customer_complaint", end=m(90), status="completed")
    b.save()
    return b
