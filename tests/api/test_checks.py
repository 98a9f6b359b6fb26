"""The major-incident check through the HTTP API: no diagnosis before it passes, overrides, /checks."""
from __future__ import annotations

from typing import Any

import pytest

from .helpers import BUNDLED, complete, open_task, start, upload_active

START = {"priority": "P2", "summary": "switch down", "caller_id": "C-1"}
LOG = {"summary": "switch down", "caller_id": "C-1", "identity_verified": False}
TRIAGE = {"priority": "P1", "priority_reason": "whole floor"}


@pytest.fixture
def api(client, token):  # type: ignore[no-untyped-def]
    """An admin client; requests may act as supervisor sup-7 with `headers=SUPERVISOR`."""
    assert upload_active(client, BUNDLED / "major_incident.bpmn").status_code == 201
    SUPERVISOR["Authorization"] = f"Bearer {token('sup-7', ['supervisor'], ['service-desk', 'incident-managers'])}"
    return client


SUPERVISOR: dict[str, str] = {}


def _open(incident: dict[str, Any]) -> list[str]:
    return sorted(t["element_id"] for t in incident["open_tasks"])


def _failed_once(api) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    incident = start(api, "major_incident", START).get_json()
    incident = complete(api, open_task(incident, "Task_LogIncident"), LOG).get_json()
    return complete(api, open_task(incident, "Task_Triage"), TRIAGE).get_json()


def _trail(api, incident_id: str, *kinds: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = api.get(f"/api/v1/incidents/{incident_id}/audit").get_json()["items"]
    return [r for r in rows if r["kind"] in kinds]


def test_an_incident_cannot_reach_diagnosis_without_passing_the_check(api) -> None:  # type: ignore[no-untyped-def]
    incident = _failed_once(api)
    assert _open(incident) == ["Task_VerifyCallerIdentity"]
    incident = complete(api, open_task(incident, "Task_VerifyCallerIdentity"),
                        {"identity_verified": False}).get_json()
    assert _open(incident) == ["Task_VerifyCallerIdentity"]  # still failing: round the rework loop again
    assert not api.get(f"/api/v1/tasks?incident={incident['id']}&lane=resolvers").get_json()["items"]
    incident = complete(api, open_task(incident, "Task_VerifyCallerIdentity"),
                        {"identity_verified": True, "verification_method": "call_back"}).get_json()
    assert "Task_Diagnose" in _open(incident)

    events = _trail(api, incident["id"], "check_passed", "check_failed")
    assert [(e["kind"], e["data"]["attempt"], e["data"]["flow"]) for e in events] == [
        ("check_failed", 1, "Flow_TriageFailed"), ("check_failed", 2, "Flow_TriageFailed"),
        ("check_passed", 3, "Flow_TriagePassed")]
    assert events[0]["data"]["values"] == {"identity_verified": False, "priority": "P1"}
    assert events[2]["data"]["values"] == {"identity_verified": True, "priority": "P1"}
    assert all(e["data"]["check"] == "triage_complete" and e["element_id"] == "Gateway_TriageCheck"
               for e in events)

    [status] = api.get(f"/api/v1/incidents/{incident['id']}/checks").get_json()["items"]
    assert status["check"] == "triage_complete" and status["gateway_id"] == "Gateway_TriageCheck"
    assert (status["outcome"], status["attempts"], status["passed_first_time"]) == ("passed", 3, False)
    assert status["category"] == "failed_then_passed" and status["overrides"] == []


def test_a_check_that_passes_first_time(api) -> None:  # type: ignore[no-untyped-def]
    incident = start(api, "major_incident", START).get_json()
    incident = complete(api, open_task(incident, "Task_LogIncident"), {**LOG, "identity_verified": True}).get_json()
    incident = complete(api, open_task(incident, "Task_Triage"), TRIAGE).get_json()
    assert _open(incident) == ["Task_Diagnose", "Task_SendStakeholderUpdate"]
    [status] = api.get(f"/api/v1/incidents/{incident['id']}/checks").get_json()["items"]
    assert (status["outcome"], status["attempts"], status["passed_first_time"]) == ("passed", 1, True)


def test_a_supervisor_override_moves_the_incident_on_and_is_audited(api) -> None:  # type: ignore[no-untyped-def]
    incident = _failed_once(api)
    verify = open_task(incident, "Task_VerifyCallerIdentity")
    url = f"/api/v1/incidents/{incident['id']}/checks/triage_complete/override"
    response = api.post(url, json={"reason": "caller known to the duty manager"}, headers=SUPERVISOR)
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert _open(moved) == ["Task_Diagnose", "Task_SendStakeholderUpdate"]
    cancelled = api.get(f"/api/v1/tasks/{verify['id']}").get_json()
    assert cancelled["state"] == "cancelled"
    assert complete(api, verify, {"identity_verified": True}).status_code == 409

    [override] = _trail(api, incident["id"], "check_overridden")
    assert override["actor"] == "sup-7"
    assert override["data"]["reason"] == "caller known to the duty manager"
    assert override["data"]["flow"] == "Flow_TriagePassed" and override["data"]["attempt"] == 1
    assert override["data"]["values"] == {"identity_verified": False, "priority": "P1"}
    rework = [r for r in _trail(api, incident["id"], "task") if r["element_id"] == "Task_VerifyCallerIdentity"]
    assert rework[-1]["to_state"] == "cancelled" and rework[-1]["actor"] == "sup-7"

    [status] = api.get(f"/api/v1/incidents/{incident['id']}/checks").get_json()["items"]
    assert (status["outcome"], status["attempts"], status["category"]) == ("overridden", 1, "overridden")
    assert status["overrides"][0]["actor"] == "sup-7"

    retry = api.post(url, json={"reason": "caller known to the duty manager"}, headers=SUPERVISOR)
    assert retry.status_code == 200 and _open(retry.get_json()) == _open(moved)
    assert len(_trail(api, incident["id"], "check_overridden")) == 1
    again = api.post(url, json={"reason": "again"})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"


def test_override_needs_a_reason_a_known_check_and_a_failed_check(api) -> None:  # type: ignore[no-untyped-def]
    incident = start(api, "major_incident", START).get_json()
    base = f"/api/v1/incidents/{incident['id']}/checks"
    assert api.post(f"{base}/triage_complete/override", json={}).status_code == 422
    assert api.post(f"{base}/triage_complete/override", json={"reason": "x"}).status_code == 409  # not reached
    assert api.post(f"{base}/no_such_check/override", json={"reason": "x"}).status_code == 404
    assert api.post("/api/v1/incidents/nope/checks/triage_complete/override",
                    json={"reason": "x"}).status_code == 404
    assert api.get("/api/v1/incidents/nope/checks").status_code == 404
    assert api.get(f"{base}").get_json()["items"] == []
    incident = complete(api, open_task(incident, "Task_LogIncident"), {**LOG, "identity_verified": True}).get_json()
    complete(api, open_task(incident, "Task_Triage"), TRIAGE)
    passed = api.post(f"{base}/triage_complete/override", json={"reason": "x"})
    assert passed.status_code == 409 and passed.get_json()["outcome"] == "passed"


def test_no_api_route_skips_a_task_or_a_gateway(api) -> None:  # type: ignore[no-untyped-def]
    paths = api.get("/openapi.json").get_json()["paths"]
    assert not [p for p in paths if any(word in p for word in ("skip", "jump", "move", "goto", "gateway"))]
