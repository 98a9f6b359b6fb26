"""A major incident run to completion over HTTP: its debrief is snapshotted and served as JSON and Markdown."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine import clock
from engine.db.tables import debriefs
from engine.services.engine_app import IncidentEngine

from .helpers import BUNDLED, complete, open_task, start, upload_active

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(T0)
    token = clock.use(fixed)
    yield fixed
    clock.reset(token)


@pytest.fixture
def api(engine: IncidentEngine):  # type: ignore[no-untyped-def]
    """An admin client; each completion can act as a named user with `headers=as_actor(name)`."""
    from api import create_app
    from tests.conftest import admin_test_client

    app = create_app(engine.settings, engine)
    app.testing = True

    client = admin_test_client(app)
    for name in ("major_incident.bpmn", "customer_complaint.bpmn"):
        assert upload_active(client, BUNDLED / name).status_code == 201
    return client


def _do(api: Any, now: clock.FixedClock, incident: dict[str, Any], element: str, data: dict[str, Any],
        actor: str, minutes: int) -> dict[str, Any]:
    now.advance(timedelta(minutes=minutes))
    response = complete(api, open_task(incident, element), data, **as_actor(actor))
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _run_major(api: Any, now: clock.FixedClock) -> dict[str, Any]:
    incident = start(api, "major_incident", {"priority": "P2", "summary": "Payments line down", "caller_id": "C-7"},
                     reference="CRM-1042").get_json()
    incident = _do(api, now, incident, "Task_LogIncident", {"summary": "Payments line down", "caller_id": "C-7",
                                                            "identity_verified": False}, "agent-1", 10)
    incident = _do(api, now, incident, "Task_Triage", {"priority": "P1", "priority_reason": "all payments"},
                   "im-1", 15)
    incident = _do(api, now, incident, "Task_VerifyCallerIdentity", {"identity_verified": True}, "agent-1", 20)
    incident = _do(api, now, incident, "Task_SendStakeholderUpdate", {"update_sent": True}, "comms-1", 5)
    incident = _do(api, now, incident, "Task_Diagnose", {"root_cause": "expired certificate"}, "res-1", 25)
    incident = _do(api, now, incident, "Task_Resolve", {"resolution": "renewed", "service_restored": True},
                   "res-1", 30)
    return _do(api, now, incident, "Task_Debrief", {
        "lessons_learned": "Monitor certificate expiry.", "actions": "Add expiry alerts\nReview renewals",
        "action_owner": "ops-lead", "actions_due": "2026-04-01"}, "im-1", 60)


def test_debrief_of_a_completed_major_incident(api: Any, engine: IncidentEngine, now: clock.FixedClock) -> None:
    incident = _run_major(api, now)
    assert incident["status"] == "completed"
    with engine.db.connect() as conn:
        snapshot = conn.execute(select(debriefs).where(debriefs.c.incident_id == incident["id"])).mappings().one()
    assert snapshot["record"]["debrief"]["lessons_learned"] == "Monitor certificate expiry."
    assert snapshot["record"]["incident"]["status"] == "completed"

    response = api.get(f"/api/v1/incidents/{incident['id']}/debrief")
    assert response.status_code == 200 and response.mimetype == "application/json"
    record = response.get_json()
    assert record["incident"]["reference"] == "CRM-1042" and record["incident"]["priority"] == "P1"
    assert record["incident"]["duration_s"] == 165 * 60 and record["snapshot_at"].startswith("2026-03-02T11:45")
    assert record["major_because"] == "the procedure is marked major"
    assert record["debrief"]["actions"] == [
        {"action": "Add expiry alerts", "owner": "ops-lead", "due": "2026-04-01"},
        {"action": "Review renewals", "owner": "ops-lead", "due": "2026-04-01"}]
    assert record["debrief"]["recorded_by"] == "im-1" and record["debrief"]["element_id"] == "Task_Debrief"
    assert [(c["check"], c["attempt"], c["actor"]) for c in record["checks_failed"]] == [("triage_complete", 1, "im-1")]
    assert record["overrides"] == [] and record["sla_breaches"] == []
    assert {p["actor"]: p["tasks_completed"] for p in record["participants"]} == {
        "admin": [],  # started the incident
        "agent-1": ["Task_LogIncident", "Task_VerifyCallerIdentity"], "im-1": ["Task_Triage", "Task_Debrief"],
        "comms-1": ["Task_SendStakeholderUpdate"], "res-1": ["Task_Diagnose", "Task_Resolve"]}
    phases = {p["element_id"]: p["duration_s"] for p in record["phases"]}
    assert phases == {"Task_LogIncident": 600.0, "Task_Triage": 900.0, "Task_VerifyCallerIdentity": 1200.0,
                      "Task_SendStakeholderUpdate": 300.0, "Task_Diagnose": 1800.0, "Task_Resolve": 1800.0,
                      "Task_Debrief": 3600.0}
    kinds = [t["kind"] for t in record["timeline"]]
    assert kinds[0] == "incident_started" and kinds[-1] == "incident_completed" and "check_failed" in kinds
    assert record["timeline"][0]["at"] == "2026-03-02T09:00:00+00:00"

    markdown = api.get(f"/api/v1/incidents/{incident['id']}/debrief?format=markdown")
    assert markdown.status_code == 200 and markdown.mimetype == "text/markdown"
    text = markdown.get_data(as_text=True)
    assert text.startswith("# Debrief: Payments line down") and "| Add expiry alerts | ops-lead | 2026-04-01 |" in text
    by_accept = api.get(f"/api/v1/incidents/{incident['id']}/debrief", headers={"Accept": "text/markdown"})
    assert by_accept.mimetype == "text/markdown" and by_accept.get_data(as_text=True) == text


def test_a_running_major_incident_has_an_interim_debrief(api: Any, now: clock.FixedClock) -> None:
    incident = start(api, "major_incident", {"priority": "P3", "summary": "slow", "caller_id": "C-1"}).get_json()
    record = api.get(f"/api/v1/incidents/{incident['id']}/debrief").get_json()
    assert record["incident"]["status"] == "running" and record["snapshot_at"] is None
    assert record["debrief"]["lessons_learned"] is None


def test_no_debrief_for_an_ordinary_incident_or_an_unknown_one(api: Any, now: clock.FixedClock) -> None:
    ordinary = start(api, "customer_complaint", {"customer_name": "A", "channel": "phone", "received_at": "2026-03-02T09:00:00Z"}).get_json()
    response = api.get(f"/api/v1/incidents/{ordinary['id']}/debrief")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "not a major incident" in response.get_json()["detail"]
    p1 = start(api, "customer_complaint", {"customer_name": "B", "channel": "phone", "priority": "P1",
                                         "received_at": "2026-03-02T09:00:00Z"}).get_json()
    assert api.get(f"/api/v1/incidents/{p1['id']}/debrief").get_json()["major_because"] == \
        "the incident's priority is P1"
    missing = api.get("/api/v1/incidents/00000000-0000-4000-8000-000000000000/debrief")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404


def as_actor(name: str) -> dict[str, str]:
    from engine.identity.principal import ROLES
    from engine.identity.tokens import issue_token
    from tests.conftest import make_settings

    return {"Authorization": f"Bearer {issue_token(make_settings('sqlite://'), user=name, roles=ROLES)}"}
