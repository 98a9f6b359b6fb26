"""Camunda 7 models through the API: input/output mappings (issue 12); on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Any

from .helpers import FIXTURES, complete, open_task, start, upload


def test_an_io_mapped_procedure_runs_through_the_api(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "io_mapping.bpmn").status_code == 201
    incident = start(client, "io_mapping", {"case_id": "C-9", "amount": 2}, test=True).get_json()
    done = complete(client, open_task(incident, "Task_Review"), {"decision": "refund"})
    assert done.status_code == 200, done.get_json()
    # the case file holds what people and systems submitted and what the mapping's outputs set (at process
    # scope, as Camunda shows them); the mapping's locals (inputs) never reach it
    assert done.get_json()["data"] == {"case_id": "C-9", "amount": 2, "decision": "refund",
                                       "review_outcome": "refund/Case C-9 for 2", "seen_amount": 3}
    assert open_task(done.get_json(), "Task_Call")


def test_a_mapping_that_names_an_unknown_variable_puts_the_incident_in_error(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "io_mapping.bpmn").status_code == 201
    incident = start(client, "io_mapping", {"case_id": "C-9"}, test=True)  # no `amount`
    body = incident.get_json()
    assert incident.status_code == 201 and body["status"] == "error", body
    assert "inputParameter 'doubled' of Task_Review" in body["error"] and "amount" in body["error"]


def _callback(client: Any, urgency: int, by: str) -> dict[str, Any]:
    body = start(client, "task_attributes", {"urgency": urgency, "callback_by": by}, test=True).get_json()
    return open_task(body, "Task_Callback")


def test_due_follow_up_priority_initiator_and_form_key_reach_the_task(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "task_attributes.bpmn").status_code == 201
    task = _callback(client, 3, "2026-02-03T10:00:00Z")
    assert task["assignee"] == "admin"  # camunda:initiator put the starter in ${starter}
    assert task["due_at"].startswith("2026-02-03T10:00:00") and task["priority"] == 30
    assert task["follow_up_at"] is not None and task["form_key"] == "embedded:app:forms/callback.html"
    got = client.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert (got["priority"], got["form_key"]) == (30, "embedded:app:forms/callback.html")
    camunda = client.get(f"/engine-rest/task/{task['id']}").get_json()
    assert camunda["priority"] == 30 and camunda["followUp"] and camunda["due"].startswith("2026-02-03T10:00:00")


def test_the_queue_sorts_and_filters_by_priority_and_dates_with_cursors(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "task_attributes.bpmn").status_code == 201
    ids = {u: _callback(client, u, f"2026-02-0{u}T10:00:00Z")["id"] for u in (2, 5, 1, 4)}
    seen: list[str] = []
    cursor = None
    while True:
        page = client.get("/api/v1/tasks", query_string={
            "sort": "priority", "limit": 1, "test": "true", **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [ids[5], ids[4], ids[2], ids[1]]
    due = client.get("/api/v1/tasks", query_string={"sort": "due", "test": "true"}).get_json()["items"]
    assert [t["id"] for t in due] == [ids[1], ids[2], ids[4], ids[5]]
    high = client.get("/api/v1/tasks", query_string={"min_priority": 40, "test": "true"}).get_json()["items"]
    assert {t["id"] for t in high} == {ids[5], ids[4]}
    other = client.get("/api/v1/tasks", query_string={"sort": "due", "cursor": cursor or _cursor(client),
                                                      "test": "true"})
    assert other.status_code == 422  # a cursor of another order
    camunda = client.get("/engine-rest/task", query_string={"sortBy": "priority", "sortOrder": "desc",
                                                             "minPriority": 20}).get_json()
    assert [t["id"] for t in camunda] == [ids[5], ids[4], ids[2]]


def _cursor(client: Any) -> str:
    page = client.get("/api/v1/tasks", query_string={"sort": "priority", "limit": 1, "test": "true"}).get_json()
    return str(page["next_cursor"])


def test_each_multi_instance_task_is_a_row_of_its_own(client: Any) -> None:
    assert upload(client, FIXTURES / "camunda" / "multi_instance.bpmn").status_code == 201
    body = start(client, "multi_instance", {"reviewers": ["admin", "bob", "admin"], "signatures": 1},
                 test=True).get_json()
    reviews = [t for t in body["open_tasks"] if t["element_id"] == "Task_Review"]
    assert sorted(t["assignee"] for t in reviews) == ["admin", "admin", "bob"]
    mine = [t for t in reviews if t["assignee"] == "admin"]
    first = complete(client, mine[0], {"verdict": "ok"})
    assert first.status_code == 200 and len(open_tasks_of(first.get_json(), "Task_Review")) == 2
    second = complete(client, mine[1], {"verdict": "ok"}).get_json()  # two of three: bob's is cancelled
    assert open_tasks_of(second, "Task_Review") == [] and open_tasks_of(second, "Task_Sign")
    bobs = client.get(f"/api/v1/tasks/{next(t['id'] for t in reviews if t['assignee'] == 'bob')}").get_json()
    assert bobs["state"] == "cancelled"


def open_tasks_of(incident: dict[str, Any], element_id: str) -> list[dict[str, Any]]:
    return [t for t in incident["open_tasks"] if t["element_id"] == element_id]


def test_a_compensating_procedure_runs_its_handlers_as_audited_tasks(client: Any) -> None:
    created = upload(client, FIXTURES / "camunda" / "compensation.bpmn")
    assert created.status_code == 201, created.get_json()
    incident = start(client, "compensation", {"case_id": "C-12"}, test=True).get_json()
    incident = complete(client, open_task(incident, "Task_Credit"), {"amount": 40}).get_json()
    assert incident["status"] == "running"
    undo = complete(client, open_task(incident, "Task_Verify"), {"approved": False})
    assert undo.status_code == 200, undo.get_json()
    body = undo.get_json()
    # the letter's script handler ran at once (latest first); the credit's handler waits for a person
    handler = open_task(body, "Task_Reverse_Credit")
    assert [t["element_id"] for t in body["open_tasks"]] == ["Task_Reverse_Credit"] and body["status"] == "running"
    queue = client.get("/api/v1/tasks", query_string={"test": "true"}).get_json()["items"]
    assert handler["id"] in [t["id"] for t in queue]
    done = complete(client, handler, {"reversed": True})
    assert done.status_code == 200, done.get_json()
    final = done.get_json()
    assert final["status"] == "completed"
    assert not any(key.startswith("_compensation") for key in final["data"])
    trail = client.get(f"/api/v1/incidents/{final['id']}/audit").get_json()["items"]
    rows = [(r["kind"], r["element_id"], (r["data"] or {}).get("compensates"))
            for r in trail if r["kind"].startswith("compensation_")]
    assert rows == [("compensation_started", "Task_Withdraw_Letter", "Task_Letter"),
                    ("compensation_completed", "Task_Withdraw_Letter", "Task_Letter"),
                    ("compensation_started", "Task_Reverse_Credit", "Task_Credit"),
                    ("compensation_completed", "Task_Reverse_Credit", "Task_Credit")]
    handled = [r for r in trail if r["element_id"] == "Task_Reverse_Credit" and r["kind"] == "task"]
    assert [r["to_state"] for r in handled] == ["ready", "completed"]
