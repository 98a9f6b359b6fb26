"""The bundled procedure with Camunda Forms (data_subject_request): deployed with its .form files as one
bundled deployment (a second run a no-op), its tasks serve the form-js schema on both edges, and completion
is validated against it, a 422 per field, then a 200."""
from __future__ import annotations

import json
from typing import Any

from engine import clock
from engine.services import deployments
from engine.services.engine_app import IncidentEngine
from engine.services.procedures import deploy_directory
from tests.support.procedures import activate

from .helpers import BUNDLED

KEY = "data_subject_request"
FORMS = sorted(BUNDLED.glob(f"{KEY}.*.form"))
INTAKE = {"requester_name": "Ada Jones", "requester_email": "ada@example.org", "request_type": "access",
          "period_months": 24, "identity_verified": True, "verification_method": "security_questions"}


def _bundled(engine: IncidentEngine) -> dict[str, Any]:
    [found] = [d for d in deployments.search(engine, source="bundled") if d["name"] == KEY]
    return found


def test_the_directory_deploys_the_bpmn_and_its_forms_as_one_deployment_once(engine: IncidentEngine) -> None:
    rows = {r["key"]: r for r in deploy_directory(engine, BUNDLED)}
    deployment = _bundled(engine)
    assert rows[KEY]["deployment_id"] == deployment["id"] and rows[KEY]["version"] == 1
    assert sorted((r["filename"], r["kind"], r["status"]) for r in deployment["resources"]) == sorted(
        [(f"{KEY}.bpmn", "process", "created")] + [(p.name, "form", "created") for p in FORMS])
    assert {r["key"] for r in deployment["resources"] if r["kind"] == "form"} == {
        "dsr_intake", "dsr_verify_identity", "dsr_response", "dsr_escalation"}
    count = len(deployments.search(engine))
    again = {r["key"]: r for r in deploy_directory(engine, BUNDLED)}  # second start: nothing new
    assert len(deployments.search(engine)) == count
    assert {k: (r["id"], r["version"]) for k, r in again.items()} == {k: (r["id"], r["version"]) for k, r in rows.items()}
    assert _bundled(engine)["id"] == deployment["id"]


def test_its_task_serves_the_form_on_both_edges_and_completion_is_validated(client, engine: IncidentEngine) -> None:  # type: ignore[no-untyped-def]
    deploy_directory(engine, BUNDLED)
    activate(engine, KEY)
    started = client.post("/api/v1/incidents", json={"procedure": KEY, "reference": "DSR-1", "data": {
        "received_at": clock.now().isoformat(), "channel": "phone"}})  # the month runs from now
    assert started.status_code == 201 and started.get_json()["test"] is False, started.get_json()
    [task] = started.get_json()["open_tasks"]
    assert task["element_id"] == "Task_LogRequest"
    detail = client.get(f"/api/v1/tasks/{task['id']}").get_json()
    intake = json.loads((BUNDLED / f"{KEY}.intake.form").read_text())
    form = detail["camunda_form"]
    assert (form["key"], form["version"], form["filename"], form["deployment_id"]) == (
        "dsr_intake", 1, f"{KEY}.intake.form", _bundled(engine)["id"])
    assert form["schema"] == intake and detail["form"] == []
    rest = client.get(f"/engine-rest/task/{task['id']}/deployed-form")
    assert rest.status_code == 200 and rest.get_json() == intake

    bad = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        **INTAKE, "requester_name": "", "requester_email": "ada-at-example", "request_type": "gossip",
        "period_months": 100}})
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    errors = {e["field"]: e["message"] for e in bad.get_json()["errors"]}
    # period_months is hidden unless the request is for access (conditional.hide), so it is not checked
    assert set(errors) == {"requester_name", "requester_email", "request_type"}, errors
    assert "required" in errors["requester_name"] and "e-mail" in errors["requester_email"]
    assert "not one of" in errors["request_type"]
    assert client.get(f"/api/v1/tasks/{task['id']}").get_json()["state"] == "ready"  # nothing changed
    shown = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {**INTAKE, "period_months": 100}})
    assert shown.status_code == 422
    assert [(e["field"], "at most 72" in e["message"]) for e in shown.get_json()["errors"]] == [("period_months", True)]

    # verified but no method: required once shown; not verified: the method is hidden, so not required
    shown = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {
        **INTAKE, "verification_method": None}})
    assert shown.status_code == 422
    assert [e["field"] for e in shown.get_json()["errors"]] == ["verification_method"]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": INTAKE})
    assert done.status_code == 200, done.get_json()
    incident = done.get_json()
    assert [t["element_id"] for t in incident["open_tasks"]] == ["Task_Respond"]
    checks = client.get(f"/api/v1/incidents/{incident['id']}/checks").get_json()["items"]
    assert [(c["check"], c["outcome"]) for c in checks] == [("identity_verified", "passed")]
    respond = client.get(f"/api/v1/tasks/{incident['open_tasks'][0]['id']}").get_json()
    assert respond["camunda_form"]["key"] == "dsr_response"
