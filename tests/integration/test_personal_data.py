"""Personal data kept apart, erased on request and at the end of retention, exported on request: on SQLite
and PostgreSQL, with the bundled customer complaint (customer_name, customer_email; subject customer_email)."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.db import personal_rows
from engine.db.tables import audit, metadata, personal_data, subject_requests
from engine.errors import Invalid
from engine.records.declarations import ERASED, MARKER
from engine.services import (
    audit_chain,
    data_subjects,
    debriefs,
    incidents,
    legal_holds,
    monitoring,
    retention,
)
from engine.services.engine_app import IncidentEngine
from tests.support.incidents import complete, deploy_bundled, frozen

NAME, EMAIL = "Ann Smith-Caller", "ann.smith@example.org"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _complaint(engine: IncidentEngine, email: str = EMAIL, name: str = NAME) -> dict[str, Any]:
    view, _ = incidents.start(engine, procedure="customer_complaint",
                              data={"received_at": T0.isoformat(), "customer_name": name, "channel": "phone"})
    return complete(engine, view, "Task_AcknowledgeComplaint",
                    {"acknowledged": True, "customer_email": email, "contact_verified": True})


def _everything(engine: IncidentEngine, *, skip: tuple[Any, ...] = ()) -> str:
    """Every row of every table as text (the workflow state included), but the tables in `skip`."""
    out = []
    with engine.uow(write=False) as uow:
        for table in metadata.sorted_tables:
            if table in skip:
                continue
            for row in uow.conn.execute(select(table)).mappings():
                out.append(json.dumps({k: (v.decode("latin-1") if isinstance(v, bytes) else v)
                                       for k, v in row.items()}, default=str))
    return "\n".join(out)


def test_personal_values_are_kept_apart_from_every_other_record(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0):
        view = _complaint(engine)
    elsewhere = _everything(engine, skip=(personal_data, audit))
    assert NAME not in elsewhere and EMAIL not in elsewhere  # workflow state, incident and task data, outbox...
    with engine.uow(write=False) as uow:
        assert personal_rows.values(uow.conn, view["id"]) == {"customer_name": NAME, "customer_email": EMAIL}
        trail = [dict(r) for r in uow.conn.execute(select(audit).where(audit.c.incident_id == view["id"])).mappings()]
    assert NAME not in json.dumps([r["data"] for r in trail], default=str)
    carrying = [r for r in trail if r["personal"]]
    assert {k for r in carrying for k in r["personal"]} == {"customer_name", "customer_email"}
    assert all(r["data"][k] == MARKER for r in carrying for k in r["personal"] if r["data"] and k in r["data"])
    shown = incidents.get(engine, view["id"])["data"]
    assert shown["customer_name"] == NAME and shown["customer_email"] == EMAIL  # read back from the store


def test_an_erasure_request_forgets_the_subject_everywhere_and_the_incident_runs_on(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0):
        view = _complaint(engine)
        other = _complaint(engine, email="someone.else@example.org", name="Bob Other")
        result = data_subjects.erase(engine, EMAIL, legal_basis="Art. 17(1)(a)", actor="dpo-1")
    assert [e["incident_id"] for e in result["erased"]] == [view["id"]]
    assert result["values_erased"] == 2 and result["audit_payloads_erased"] >= 2 and not result["nothing_erased"]
    everything = _everything(engine)
    assert NAME not in everything and EMAIL not in everything
    assert "Bob Other" in everything  # someone else's data stays
    assert audit_chain.verify_incident(engine, view["id"])["valid"]  # the chain holds after erasure
    assert incidents.get(engine, view["id"])["data"]["customer_name"] == ERASED
    # the running incident works on: its next task completes as before
    with frozen(T0 + timedelta(hours=1)):
        after = complete(engine, incidents.get(engine, view["id"]), "Task_TryToResolve",
                         {"resolved_informally": True, "notes": "sorted"})
    assert any(t["element_id"] == "Task_SendSummaryResolution" for t in after["open_tasks"])
    trail = [r for r in audit_chain_rows(engine, view["id"]) if r["kind"] == "personal_data_erased"]
    assert len(trail) == 1 and trail[0]["actor"] == "dpo-1" and trail[0]["data"]["reason"] == "request"
    again = data_subjects.erase(engine, EMAIL, legal_basis="Art. 17(1)(a)", actor="dpo-1")
    assert again["nothing_erased"] and again["already_erased"] == [view["id"]] and again["erased"] == []
    assert "already erased" in again["message"]
    assert other["id"] not in {e["incident_id"] for e in result["erased"]}


def audit_chain_rows(engine: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    with engine.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(
            select(audit).where(audit.c.incident_id == incident_id).order_by(audit.c.id)).mappings()]


def test_a_legal_hold_keeps_the_data_and_the_answer_says_so(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0):
        view = _complaint(engine)
        legal_holds.set_hold(engine, view["id"], reason="claim before the ombudsman")
        result = data_subjects.erase(engine, EMAIL, legal_basis="Art. 17", actor="dpo-1")
    assert result["nothing_erased"] and result["held"] == [
        {"incident_id": view["id"], "reason": "claim before the ombudsman", "set_by": None}]
    assert incidents.get(engine, view["id"])["data"]["customer_email"] == EMAIL
    legal_holds.release_hold(engine, view["id"])
    assert data_subjects.erase(engine, EMAIL, legal_basis="Art. 17", actor="dpo-1")["values_erased"] == 2


def test_an_unknown_subject_erases_nothing_and_is_still_recorded(engine: IncidentEngine) -> None:
    result = data_subjects.erase(engine, "nobody@example.org", legal_basis="Art. 17", actor="dpo-1")
    assert result["nothing_erased"] and result["incidents"] == 0 and "nothing" in result["message"]
    with engine.uow(write=False) as uow:
        recorded = [dict(r) for r in uow.conn.execute(select(subject_requests)).mappings()]
    assert len(recorded) == 1 and recorded[0]["requested_by"] == "dpo-1" and recorded[0]["legal_basis"] == "Art. 17"
    assert "nobody@example.org" not in json.dumps(recorded, default=str)  # kept as a keyed hash only
    for bad in (7, "", "   ", "x" * 256, None):
        with pytest.raises(Invalid):
            data_subjects.erase(engine, bad, legal_basis="Art. 17")


def test_retention_erases_ended_incidents_once_and_figures_still_work(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0) as now:
        ended = _complaint(engine)
        incidents.cancel(engine, ended["id"], reason="withdrawn")
        running = _complaint(engine, email="still.open@example.org", name="Cy Open")
        now.advance(timedelta(days=365 * 3 - 2))
        assert retention.erase_expired(engine) == 0  # P3Y from the end: not yet
        now.advance(timedelta(days=3))
        assert retention.erase_expired(engine) == 1
        assert retention.erase_expired(engine) == 0  # exactly once
    assert incidents.get(engine, ended["id"])["data"]["customer_name"] == ERASED
    assert incidents.get(engine, running["id"])["data"]["customer_name"] == "Cy Open"  # not ended: kept
    [row] = [r for r in audit_chain_rows(engine, ended["id"]) if r["kind"] == "personal_data_erased"]
    assert row["data"]["reason"] == "retention" and row["data"]["values"] == 2
    assert audit_chain.verify_incident(engine, ended["id"])["valid"]
    figures = monitoring.procedure_metrics(engine, "customer_complaint", since=T0 - timedelta(days=1),
                                           until=T0 + timedelta(days=1))
    assert figures["incidents"]["started"] == 2, figures["incidents"]  # erased incidents still count


def test_a_debrief_of_an_erased_major_complaint_still_works_and_reads_erased(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0):
        view, _ = incidents.start(engine, procedure="customer_complaint", data={
            "received_at": T0.isoformat(), "customer_name": NAME, "channel": "phone", "priority": "P1"})
        before = json.dumps(debriefs.debrief(engine, view["id"]), default=str)
        assert MARKER in before and NAME not in before
        data_subjects.erase(engine, EMAIL, legal_basis="Art. 17", actor="dpo-1")  # not linked yet: no email
        complete(engine, view, "Task_AcknowledgeComplaint",
                 {"acknowledged": True, "customer_email": EMAIL, "contact_verified": True})
        data_subjects.erase(engine, EMAIL, legal_basis="Art. 17", actor="dpo-1")
    after = debriefs.debrief(engine, view["id"])
    text = json.dumps(after, default=str)
    assert ERASED in text and MARKER not in text and NAME not in text and EMAIL not in text
    assert after["incident"]["id"] == view["id"] and after["major"] is True
    assert "personal_data_erased" in [r["kind"] for r in after["timeline"]]


def test_export_returns_everything_held_about_the_subject(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen(T0):
        view = _complaint(engine)
        _complaint(engine, email="someone.else@example.org", name="Bob Other")
    doc = data_subjects.export(engine, EMAIL)
    [incident] = doc["incidents"]
    assert incident["incident_id"] == view["id"] and incident["procedure"] == "customer_complaint"
    assert {v["name"]: v["value"] for v in incident["personal_data"]} == {"customer_name": NAME,
                                                                         "customer_email": EMAIL}
    assert any(e["personal"] and e["personal"].get("customer_email") == EMAIL for e in incident["audit"])
    assert "Bob Other" not in json.dumps(doc, default=str)
    data_subjects.erase(engine, EMAIL, legal_basis="Art. 17", actor="dpo-1")
    after = data_subjects.export(engine, EMAIL)
    [incident] = after["incidents"]
    assert all(v["value"] is None and v["erased_reason"] == "request" for v in incident["personal_data"])
    assert [r["kind"] for r in after["requests"]] == ["access", "erasure"]
