"""The three bundled procedures, deployed from bpmn/ and worked end to end through the API on a fixed clock."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine import clock
from engine.clock import FixedClock
from engine.services.procedures import deploy_directory
from tests.support.procedures import deploy_bundled

from .helpers import BUNDLED, complete, open_task, start

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday in winter (UK time == UTC), no bank holiday


@pytest.fixture
def api(engine, client) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The client on an engine with every bundled procedure deployed, time frozen at NOW."""
    token = clock.use(FixedClock(NOW))
    try:
        rows = deploy_bundled(engine)
        assert sorted((r["key"], r["version"]) for r in rows) == [
            ("customer_complaint", 1), ("data_breach", 1), ("data_subject_request", 1), ("major_incident", 1)]
        yield client
    finally:
        clock.reset(token)


def _open(incident: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {t["element_id"]: (t["name"], t["lane"]) for t in incident["open_tasks"]}


def _do(client: Any, incident: dict[str, Any], element_id: str, data: dict[str, Any]) -> dict[str, Any]:
    response = complete(client, open_task(incident, element_id), data)
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["status"] in ("running", "completed"), result.get("error")
    return result


def _trail(client: Any, incident: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/incidents/{incident['id']}/audit")
    assert response.status_code == 200
    return response.get_json()["items"]


def _decisions(trail: list[dict[str, Any]], gateway: str) -> list[str]:
    return [row["data"]["taken"][0]["flow"] for row in trail
            if row["kind"] == "gateway" and row["element_id"] == gateway]


def _completed_elements(trail: list[dict[str, Any]]) -> list[str]:
    return [row["element_id"] for row in trail if row["kind"] == "task" and row["to_state"] == "completed"
            and row["element_type"] == "userTask"]


def _assert_finished(client: Any, incident: dict[str, Any]) -> list[dict[str, Any]]:
    assert incident["status"] == "completed", incident.get("error")
    assert incident["open_tasks"] == [] and incident["error"] is None
    assert datetime.fromisoformat(incident["ended_at"]) == NOW
    again = client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    assert again["status"] == "completed"
    trail = _trail(client, incident)
    kinds = [row["kind"] for row in trail]
    assert kinds[0] == "incident_started" and kinds[-1] == "incident_completed"
    assert kinds.count("incident_completed") == 1
    assert "incident_error" not in kinds and "timer_fired" not in kinds
    ids = [row["id"] for row in trail]
    assert ids == sorted(ids)
    assert client.get(f"/api/v1/tasks?incident={incident['id']}").get_json()["items"] == []
    return trail


def _due(task: dict[str, Any]) -> datetime | None:
    return datetime.fromisoformat(task["due_at"]) if task["due_at"] else None


def test_the_bundled_procedures_are_listed_after_deploy(api) -> None:  # type: ignore[no-untyped-def]
    items = api.get("/api/v1/procedures").get_json()["items"]
    assert {p["key"]: p["version"] for p in items} == {
        "major_incident": 1, "data_breach": 1, "customer_complaint": 1, "data_subject_request": 1}
    major = next(p for p in items if p["key"] == "major_incident")
    assert major["properties"].get("required_checks") == "triage_complete"


def test_major_incident_end_to_end_with_a_failed_check_and_both_branches(api) -> None:  # type: ignore[no-untyped-def]
    created = start(api, "major_incident", {"priority": "P1", "summary": "Card payments down",
                                            "caller_id": "C-100"}, reference="MI-1")
    assert created.status_code == 201, created.get_json()
    incident = created.get_json()
    assert incident["status"] == "running" and incident["version"] == 1
    assert datetime.fromisoformat(incident["created_at"]) == NOW
    assert _open(incident) == {"Task_LogIncident": ("Log incident", "service-desk")}
    assert "service-desk" in open_task(incident, "Task_LogIncident")["candidate_groups"]

    # a form error changes nothing
    bad = complete(api, open_task(incident, "Task_LogIncident"), {"summary": "x", "customer_impact": "huge"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"caller_id", "identity_verified", "customer_impact"}

    incident = _do(api, incident, "Task_LogIncident", {
        "summary": "Card payments down", "caller_id": "C-100", "identity_verified": False,
        "affected_service": "payments", "customer_impact": "high"})
    assert _open(incident) == {"Task_Triage": ("Triage", "incident-managers")}

    # identity not verified: the triage check fails and sends the caller back for verification
    incident = _do(api, incident, "Task_Triage", {"priority": "P1", "priority_reason": "all card payments fail"})
    assert _open(incident) == {"Task_VerifyCallerIdentity": ("Verify caller identity", "service-desk")}
    verify = open_task(incident, "Task_VerifyCallerIdentity")
    assert {"service-desk", "incident-managers"} <= set(verify["candidate_groups"])

    incident = _do(api, incident, "Task_VerifyCallerIdentity",
                   {"identity_verified": True, "verification_method": "call_back"})
    assert _open(incident) == {
        "Task_SendStakeholderUpdate": ("Send stakeholder update", "communications"),
        "Task_Diagnose": ("Diagnose", "resolvers"),
    }
    diagnose = open_task(incident, "Task_Diagnose")
    assert _due(diagnose) == NOW + timedelta(minutes=30)  # the P1 diagnosis SLA
    assert datetime.fromisoformat(incident["next_timer_at"]) == NOW + timedelta(minutes=30)

    # the join waits for both branches
    incident = _do(api, incident, "Task_Diagnose", {"root_cause": "expired certificate",
                                                   "workaround_available": False})
    assert _open(incident) == {"Task_SendStakeholderUpdate": ("Send stakeholder update", "communications")}
    incident = _do(api, incident, "Task_SendStakeholderUpdate", {"update_sent": True})
    assert _open(incident) == {"Task_Resolve": ("Resolve", "resolvers")}
    assert incident["next_timer_at"] is None  # leaving Diagnose disarmed the SLA timer

    incident = _do(api, incident, "Task_Resolve", {"resolution": "certificate renewed", "service_restored": True})
    assert _open(incident) == {"Task_Debrief": ("Debrief", "incident-managers")}
    incident = _do(api, incident, "Task_Debrief", {"lessons_learned": "monitor certificate expiry",
                                                  "actions": "add an alert", "action_owner": "ops",
                                                  "actions_due": "2026-02-01"})
    trail = _assert_finished(api, incident)
    assert _decisions(trail, "Gateway_TriageCheck") == ["Flow_TriageFailed", "Flow_TriagePassed"]
    done = _completed_elements(trail)
    assert done[:4] == ["Task_LogIncident", "Task_Triage", "Task_VerifyCallerIdentity", "Task_Diagnose"]
    assert done[4:] == ["Task_SendStakeholderUpdate", "Task_Resolve", "Task_Debrief"]
    assert "Task_EscalateDiagnosis" not in {row["element_id"] for row in trail}
    notified = [r for r in trail if r["element_id"] == "Task_NotifyStakeholders" and r["to_state"] == "completed"]
    assert len(notified) == 1
    assert incident["data"]["priority"] == "P1" and incident["data"]["identity_verified"] is True


def _breach(api: Any, aware_at: datetime) -> dict[str, Any]:
    created = start(api, "data_breach", {"aware_at": aware_at.isoformat(), "summary": "laptop lost"})
    assert created.status_code == 201, created.get_json()
    incident = created.get_json()
    assert _open(incident) == {"Task_LogBreach": ("Log breach", "service-desk")}
    incident = _do(api, incident, "Task_LogBreach", {
        "breach_description": "unencrypted laptop lost", "data_categories": "names, addresses",
        "records_affected": 120, "awareness_recorded": True})
    assert _open(incident) == {"Task_AssessRisk": ("Assess risk", "data-protection")}
    assert _due(open_task(incident, "Task_AssessRisk")) == aware_at + timedelta(hours=72)
    # the check fails once (assessment not complete): rework
    incident = _do(api, incident, "Task_AssessRisk", {"risk_level": "high", "risk_assessed": False,
                                                     "awareness_recorded": True})
    assert _open(incident) == {"Task_AssessRisk": ("Assess risk", "data-protection")}
    return incident


@pytest.mark.parametrize("risk", ["high", "low"])
def test_data_breach_notify_path(api, risk: str) -> None:  # type: ignore[no-untyped-def]
    aware_at = NOW - timedelta(hours=2)
    incident = _breach(api, aware_at)
    incident = _do(api, incident, "Task_AssessRisk", {"risk_level": risk, "risk_assessed": True,
                                                     "awareness_recorded": True, "assessment_notes": "ok"})
    assert _open(incident) == {"Task_NotifyIco": ("Notify the ICO", "data-protection")}
    assert _due(open_task(incident, "Task_NotifyIco")) == aware_at + timedelta(hours=72)
    incident = _do(api, incident, "Task_NotifyIco", {"ico_reference": "ICO-123", "notified_at": "2026-01-05"})
    if risk == "high":
        assert _open(incident) == {"Task_TellAffectedPeople": ("Tell affected people", "data-protection")}
        incident = _do(api, incident, "Task_TellAffectedPeople", {"people_notified": 120, "channel": "email"})
    trail = _assert_finished(api, incident)
    assert _decisions(trail, "Gateway_RiskAssessedCheck") == ["Flow_RiskAssessmentFailed", "Flow_RiskAssessedPassed"]
    assert _decisions(trail, "Gateway_IcoMustBeTold") == ["Flow_IcoMustBeTold"]
    assert _decisions(trail, "Gateway_HighRisk") == ["Flow_HighRisk" if risk == "high" else "Flow_NotHighRisk"]
    assert "Task_RecordNotNotified" not in _completed_elements(trail)
    assert "Task_EscalateToDpo" not in {row["element_id"] for row in trail}


def test_data_breach_not_notified_path(api) -> None:  # type: ignore[no-untyped-def]
    incident = _breach(api, NOW - timedelta(hours=1))
    incident = _do(api, incident, "Task_AssessRisk", {"risk_level": "none", "risk_assessed": True,
                                                     "awareness_recorded": True})
    assert _open(incident) == {"Task_RecordNotNotified": ("Record why not notified", "data-protection")}
    incident = _do(api, incident, "Task_RecordNotNotified", {"reason_not_notified": "data was encrypted"})
    trail = _assert_finished(api, incident)
    assert _decisions(trail, "Gateway_IcoMustBeTold") == ["Flow_NotNotifiable"]
    assert "Task_NotifyIco" not in {row["element_id"] for row in trail}
    assert _completed_elements(trail) == ["Task_LogBreach", "Task_AssessRisk", "Task_AssessRisk",
                                          "Task_RecordNotNotified"]


def _complaint(api: Any) -> dict[str, Any]:
    created = start(api, "customer_complaint", {"received_at": NOW.isoformat(), "customer_name": "A. Customer",
                                                "channel": "email"})
    assert created.status_code == 201, created.get_json()
    incident = created.get_json()
    assert _open(incident) == {"Task_AcknowledgeComplaint": ("Acknowledge complaint", "service-desk")}
    incident = _do(api, incident, "Task_AcknowledgeComplaint", {
        "acknowledged": True, "customer_email": "a@example.com", "contact_verified": False})
    assert _open(incident) == {"Task_VerifyContactDetails": ("Verify contact details", "service-desk")}
    incident = _do(api, incident, "Task_VerifyContactDetails", {"contact_verified": True})
    assert _open(incident) == {"Task_TryToResolve": ("Try to resolve", "complaints")}
    # close of business (17:00 UK = UTC in January) on the third business day after Monday 5 January
    assert _due(open_task(incident, "Task_TryToResolve")) == datetime(2026, 1, 8, 17, 0, tzinfo=UTC)
    return incident


def test_customer_complaint_summary_resolution_path(api) -> None:  # type: ignore[no-untyped-def]
    incident = _do(api, _complaint(api), "Task_TryToResolve", {"resolved_informally": True, "notes": "refund"})
    assert _open(incident) == {
        "Task_SendSummaryResolution": ("Send summary resolution communication", "complaints")}
    incident = _do(api, incident, "Task_SendSummaryResolution", {"summary_sent": True})
    trail = _assert_finished(api, incident)
    assert _decisions(trail, "Gateway_ContactCheck") == ["Flow_ContactCheckFailed", "Flow_ContactVerifiedPassed"]
    assert _decisions(trail, "Gateway_Resolved") == ["Flow_ResolvedInformally"]
    assert "Task_Investigate" not in {row["element_id"] for row in trail}


def test_customer_complaint_investigation_path(api) -> None:  # type: ignore[no-untyped-def]
    incident = _do(api, _complaint(api), "Task_TryToResolve", {"resolved_informally": False})
    assert _open(incident) == {"Task_Investigate": ("Investigate", "complaints")}
    assert _due(open_task(incident, "Task_Investigate")) == NOW + timedelta(weeks=8)
    incident = _do(api, incident, "Task_Investigate", {"findings": "fee charged twice", "upheld": True,
                                                      "redress_amount": 2500})
    assert _open(incident) == {"Task_SendFinalResponse": ("Send final response", "complaints")}
    incident = _do(api, incident, "Task_SendFinalResponse", {"final_response_sent": True,
                                                            "fos_leaflet_included": True})
    trail = _assert_finished(api, incident)
    assert _decisions(trail, "Gateway_Resolved") == ["Flow_NotResolvedInformally"]
    assert _completed_elements(trail) == ["Task_AcknowledgeComplaint", "Task_VerifyContactDetails",
                                          "Task_TryToResolve", "Task_Investigate", "Task_SendFinalResponse"]
    assert "Task_SendHoldingLetter" not in {row["element_id"] for row in trail}
    assert incident["data"]["redress_amount"] == 2500


def test_redeploying_the_bundled_directory_is_a_no_op(api, engine) -> None:  # type: ignore[no-untyped-def]
    rows = deploy_directory(engine, BUNDLED)
    assert {r["version"] for r in rows} == {1}
    assert len(api.get("/api/v1/procedures/major_incident").get_json()["items"]) == 1
