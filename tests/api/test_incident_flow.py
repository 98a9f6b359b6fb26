"""An incident worked end to end through the HTTP API, on SQLite and PostgreSQL."""
from __future__ import annotations

from .helpers import FIXTURES, complete, open_task, start, upload_active


def _deploy(client) -> None:  # type: ignore[no-untyped-def]
    response = upload_active(client, FIXTURES / "simple_flow.bpmn")
    assert response.status_code == 201, response.get_json()


def test_an_incident_runs_from_start_to_end_with_a_full_audit_trail(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    created = start(client, "simple_flow", {"caller": "C-1"})
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["status"] == "running"
    log = open_task(incident, "Task_Log")
    assert log["lane"] == "team-a"
    assert set(log["candidate_groups"]) == {"team-a", "supervisors"}
    assert [f["id"] for f in log["form"]] == ["summary", "ok", "count", "severity"]

    # fail the check once: the rework loop offers the fix task
    incident = complete(client, log, {"summary": "line down", "ok": False, "count": "3"}).get_json()
    fix = open_task(incident, "Task_Fix")
    incident = complete(client, fix, {"ok": True}).get_json()
    a, b = open_task(incident, "Task_A"), open_task(incident, "Task_B")
    assert b["lane"] == "team-b"
    incident = complete(client, a, {"note": "from A", "a_done": True}).get_json()
    incident = complete(client, b, {"b_done": True}).get_json()
    close = open_task(incident, "Task_Close")
    assert incident["data"]["count"] == 3  # converted from "3"
    final = complete(client, close, {}).get_json()
    assert final["status"] == "completed"
    assert final["open_tasks"] == []
    assert final["ended_at"] is not None

    trail = client.get(f"/api/v1/incidents/{final['id']}/audit").get_json()["items"]
    kinds = [row["kind"] for row in trail]
    assert kinds[0] == "incident_started" and kinds[-1] == "incident_completed"
    decisions = [row for row in trail if row["kind"] == "gateway" and row["element_id"] == "Gateway_Check"]
    assert [d["data"]["taken"][0]["flow"] for d in decisions] == ["Flow_Fail", "Flow_Pass"]
    completed = [row for row in trail if row["element_id"] == "Task_Log" and row["to_state"] == "completed"]
    assert completed[0]["data"] == {"summary": "line down", "ok": False, "count": 3}
    assert completed[0]["from_state"] == "ready"
    # our task states only, never SpiffWorkflow's internal ones (maybe, likely, future): issue 10, part 7
    ours = {None, "waiting", "ready", "started", "completed", "cancelled", "error"}
    task_rows = [row for row in trail if row["kind"] in ("task", "gateway", "timer_fired")]
    assert {row["from_state"] for row in task_rows} <= ours and {row["to_state"] for row in task_rows} <= ours
    assert None in {row["from_state"] for row in task_rows}  # reached for the first time
    ids = [row["id"] for row in trail]
    assert ids == sorted(ids)
    script = [row for row in trail if row["element_id"] == "Script_Label" and row["to_state"] == "completed"]
    assert len(script) == 1


def test_completing_a_task_twice_is_a_conflict(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    incident = start(client, "simple_flow").get_json()
    log = open_task(incident, "Task_Log")
    assert complete(client, log, {"summary": "x", "ok": True}).status_code == 200
    again = complete(client, log, {"summary": "x", "ok": True})
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"


def test_bad_form_data_is_refused_field_by_field_and_changes_nothing(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    incident = start(client, "simple_flow").get_json()
    log = open_task(incident, "Task_Log")
    response = complete(client, log, {"ok": "maybe", "count": 4.5, "severity": "urgent", "extra": 1})
    assert response.status_code == 422
    body = response.get_json()
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"summary", "ok", "count", "severity", "extra"}
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert not [row for row in trail if row["element_id"] == "Task_Log" and row["to_state"] == "completed"]
    assert client.get(f"/api/v1/tasks/{log['id']}").get_json()["state"] == "ready"


def test_idempotency_key_returns_the_first_result(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    incident = start(client, "simple_flow").get_json()
    log = open_task(incident, "Task_Log")
    body = {"summary": "x", "ok": True}
    first = complete(client, log, body, **{"Idempotency-Key": "k-1"})
    second = complete(client, log, body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 200
    assert first.get_json()["open_tasks"] == second.get_json()["open_tasks"]
    other = complete(client, log, {"summary": "y", "ok": True}, **{"Idempotency-Key": "k-1"})
    assert other.status_code == 422


def test_start_is_idempotent_by_reference(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    first = start(client, "simple_flow", reference="CRM-42")
    second = start(client, "simple_flow", reference="CRM-42")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    listed = client.get("/api/v1/incidents?procedure=simple_flow").get_json()["items"]
    assert len(listed) == 1


def test_cancel_ends_open_tasks_and_is_audited(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    incident = start(client, "simple_flow").get_json()
    assert client.post(f"/api/v1/incidents/{incident['id']}/cancel", json={}).status_code == 422
    cancelled = client.post(f"/api/v1/incidents/{incident['id']}/cancel", json={"reason": "duplicate"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    task_id = incident["open_tasks"][0]["id"]
    assert client.get(f"/api/v1/tasks/{task_id}").get_json()["state"] == "cancelled"
    assert client.post(f"/api/v1/incidents/{incident['id']}/cancel", json={"reason": "x"}).status_code == 409
    trail = client.get(f"/api/v1/incidents/{incident['id']}/audit").get_json()["items"]
    assert trail[-1]["kind"] == "incident_cancelled" or any(r["kind"] == "incident_cancelled" for r in trail)


def test_task_queue_filters_and_pages(client) -> None:  # type: ignore[no-untyped-def]
    _deploy(client)
    for _ in range(3):
        start(client, "simple_flow")
    page = client.get("/api/v1/tasks?limit=2&lane=team-a").get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"/api/v1/tasks?limit=2&lane=team-a&cursor={page['next_cursor']}").get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert client.get("/api/v1/tasks?lane=team-b").get_json()["items"] == []
    assert client.get("/api/v1/tasks?cursor=!!!").status_code == 422


def test_the_response_of_a_transition_is_what_a_read_returns(client) -> None:  # type: ignore[no-untyped-def]
    """The start and complete responses are built from memory; they must equal a fresh read."""
    _deploy(client)
    started = start(client, "simple_flow", {"caller": "C-9"}).get_json()
    assert started == client.get(f"/api/v1/incidents/{started['id']}").get_json()
    incident = complete(client, open_task(started, "Task_Log"), {"summary": "s", "ok": True}).get_json()
    assert {t["element_id"] for t in incident["open_tasks"]} == {"Task_A", "Task_B"}
    assert incident == client.get(f"/api/v1/incidents/{incident['id']}").get_json()
    incident = complete(client, open_task(incident, "Task_B"), {"b_done": True}).get_json()
    assert incident == client.get(f"/api/v1/incidents/{incident['id']}").get_json()


def test_declared_start_data_is_required(client) -> None:  # type: ignore[no-untyped-def]
    """The GDPR 72 hours run from aware_at: a breach started without it is refused, and nothing is created."""
    from .helpers import BUNDLED

    assert upload_active(client, BUNDLED / "data_breach.bpmn").status_code == 201
    refused = start(client, "data_breach", {"summary": "laptop lost", "aware_at": ""})
    assert refused.status_code == 422
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in refused.get_json()["errors"]] == ["data.aware_at"]
    assert client.get("/api/v1/incidents?procedure=data_breach").get_json()["items"] == []
    accepted = start(client, "data_breach", {"summary": "laptop lost", "aware_at": "2026-03-02T09:00:00Z"})
    assert accepted.status_code == 201
