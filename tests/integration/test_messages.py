"""Message correlation through the engine services, on SQLite and PostgreSQL: Camunda 7's semantics."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.db.tables import event_wait_keys, event_waits, outbox
from engine.errors import Conflict, Invalid, NotFound
from engine.services import incidents, messages
from engine.services.engine_app import IncidentEngine
from tests.support.events import EVENTS, deploy
from tests.support.incidents import complete, is_open, trail


def start(engine: IncidentEngine, key: str, reference: str, **data: Any) -> dict[str, Any]:
    view, created = incidents.start(engine, procedure=key, reference=reference, data=data, actor="agent")
    assert created
    return view


def waiting_for_callback(engine: IncidentEngine, reference: str, **data: Any) -> dict[str, Any]:
    view = start(engine, "message_waits", reference, **data)
    return complete(engine, view, "Task_Review", {})


def counts(engine: IncidentEngine) -> tuple[int, int]:
    with engine.uow(write=False) as uow:
        waits = uow.conn.execute(select(func.count()).select_from(event_waits)).scalar()
        keys = uow.conn.execute(select(func.count()).select_from(event_wait_keys)).scalar()
    return int(waits or 0), int(keys or 0)


def test_a_message_reaches_the_incident_by_its_reference(engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    waiting_for_callback(engine, "CRM-1")
    waiting_for_callback(engine, "CRM-2")
    result = messages.correlate(engine, name="customerCalledBack", reference="CRM-2",
                                variables={"callback_note": "ring after 5"}, actor="crm")
    [delivered] = result["results"]
    assert delivered["element_id"] == "Catch_Callback" and not delivered["started"]
    incident = delivered["incident"]
    assert incident["reference"] == "CRM-2" and incident["data"]["callback_note"] == "ring after 5"
    [audited] = trail(engine, incident["id"], "message_correlated")
    assert audited["actor"] == "crm" and audited["element_id"] == "Catch_Callback"
    assert audited["data"] == {"message": "customerCalledBack", "reference": "CRM-2", "correlation": {},
                               "variables": {"callback_note": "ring after 5"}}
    # the incident now waits for the documents; the other still waits for its callback
    again = messages.correlate(engine, name="documentsReceived", reference="CRM-2")
    assert again["results"][0]["incident"]["status"] == "completed"
    with pytest.raises(NotFound, match="reference 'CRM-2'"):
        messages.correlate(engine, name="customerCalledBack", reference="CRM-2")
    assert counts(engine)[0] == 1  # only CRM-1's wait is left


def test_a_message_reaches_the_incident_by_a_correlation_variable(engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    waiting_for_callback(engine, "A", case_id="C-76", priority=2)
    target = waiting_for_callback(engine, "B", case_id="C-77", priority=2)
    result = messages.correlate(engine, name="customerCalledBack", correlation={"case_id": "C-77"})
    assert result["results"][0]["incident"]["id"] == target["id"]
    with pytest.raises(NotFound, match="priority = '2', case_id = 'C-76'"):  # types matter, as in Camunda
        messages.correlate(engine, name="customerCalledBack", correlation={"priority": "2", "case_id": "C-76"})
    assert messages.correlate(engine, name="customerCalledBack",
                              correlation={"priority": 2, "case_id": "C-76"})["results"][0]["incident"]["reference"] == "A"


def test_no_match_several_matches_and_unknown_names(engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    one, two = waiting_for_callback(engine, "X1"), waiting_for_callback(engine, "X2")
    with pytest.raises(Conflict) as caught:
        messages.correlate(engine, name="customerCalledBack")
    assert set(caught.value.extra["incidents"]) == {one["id"], two["id"]}
    with pytest.raises(NotFound, match="no incident waits for message 'customerCalledBack', reference 'nope'"):
        messages.correlate(engine, name="customerCalledBack", reference="nope")
    with pytest.raises(Invalid, match="no procedure declares a message named 'customerCaledBack'"):
        messages.correlate(engine, name="customerCaledBack")
    both = messages.correlate(engine, name="customerCalledBack", all=True)
    assert {r["incident"]["id"] for r in both["results"]} == {one["id"], two["id"]}
    assert all(trail(engine, i["id"], "message_correlated") for i in (one, two))


def test_a_message_that_arrives_before_the_wait_is_refused_and_not_kept(engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    early = start(engine, "message_waits", "EARLY")  # still in review: not yet waiting for the callback
    with pytest.raises(NotFound):
        messages.correlate(engine, name="customerCalledBack", reference="EARLY")
    view = complete(engine, early, "Task_Review", {})
    assert view["status"] == "running" and not trail(engine, early["id"], "message_correlated")


def test_boundary_messages_interrupting_and_not(engine: IncidentEngine) -> None:
    deploy(engine, "message_waits")
    view = start(engine, "message_waits", "B1")
    for note in ("new address", "new phone"):
        view = messages.correlate(engine, name="customerInfo", reference="B1",
                                  variables={"note": note})["results"][0]["incident"]
    assert [t["element_id"] for t in view["open_tasks"]].count("Task_ReadInfo") == 2
    view = messages.correlate(engine, name="caseWithdrawn", reference="B1")["results"][0]["incident"]
    assert not is_open(view, "Task_Review") and is_open(view, "Task_ReadInfo")


def test_event_subprocesses_and_the_event_based_gateway(engine: IncidentEngine) -> None:
    deploy(engine, "message_choice")
    view = start(engine, "message_choice", "G1")
    view = messages.correlate(engine, name="complaintRaised", reference="G1",
                              variables={"complaint": "rude"})["results"][0]["incident"]
    assert is_open(view, "Task_LogComplaint")
    view = messages.correlate(engine, name="offerAccepted", reference="G1")["results"][0]["incident"]
    assert is_open(view, "Task_Fulfil") and view["next_timer_at"] is None
    result = messages.correlate(engine, name="caseEscalated", reference="G1")
    assert result["results"][0]["element_id"] == "Start_Escalate"
    view = result["results"][0]["incident"]
    assert [t["element_id"] for t in view["open_tasks"]] == ["Task_Handover"]
    with pytest.raises(NotFound):  # the interrupted scope no longer listens
        messages.correlate(engine, name="complaintRaised", reference="G1")


def test_a_message_start_event_starts_an_incident_on_the_active_version(engine: IncidentEngine) -> None:
    deploy(engine, "message_start", active=False)
    with pytest.raises(NotFound, match="no active procedure starts on it"):
        messages.correlate(engine, name="outageReported", reference="T-9")
    deploy(engine, "message_start", data=(EVENTS / "message_start.bpmn").read_bytes() + b"<!-- v2 -->")
    result = messages.correlate(engine, name="outageReported", reference="T-9",
                                variables={"reporter": "telco-1"}, actor="telco")
    [started] = result["results"]
    assert started["started"] and started["element_id"] == "Start_Report"
    incident = started["incident"]
    assert incident["version"] == 2 and incident["reference"] == "T-9" and incident["data"] == {"reporter": "telco-1"}
    assert [t["element_id"] for t in incident["open_tasks"]] == ["Task_Assess"]
    [audited] = trail(engine, incident["id"], "incident_started")
    assert audited["actor"] == "telco" and audited["data"] == {
        "by": "message", "start_event": "Start_Report", "message": "outageReported", "data": {"reporter": "telco-1"}}
    with pytest.raises(Conflict, match="already exists"):
        messages.correlate(engine, name="outageReported", reference="T-9")


def test_thrown_messages_go_out_through_the_outbox(engine: IncidentEngine) -> None:
    deploy(engine, "message_start")
    view = start(engine, "message_start", "O1")
    view = complete(engine, view, "Task_Log", {"summary": "exchange down"})
    with engine.uow(write=False) as uow:
        rows = uow.conn.execute(select(outbox).where(outbox.c.incident_id == view["id"])).mappings().all()
    assert [(r["element_id"], r["topic"]) for r in rows] == [("Throw_Ack", "reportAcknowledged")]
    assert rows[0]["payload"]["data"]["summary"] == "exchange down"
    assert is_open(view, "Task_Fix")  # fire-and-forget topics settle in the same transaction

