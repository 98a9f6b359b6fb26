"""Safe evaluation at run time: expressions that fail, the loop cap and the parallel-join merge rule, via the API."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.conftest import admin_test_client, make_settings

from .helpers import FIXTURES, complete, open_task, start, upload_active


def _audit(client: Any, incident_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/incidents/{incident_id}/audit")
    assert response.status_code == 200
    return response.get_json()["items"]


def _assert_failed(client: Any, incident_id: str, *fragments: str) -> dict[str, Any]:
    incident = client.get(f"/api/v1/incidents/{incident_id}").get_json()
    assert incident["status"] == "error", incident
    assert incident["error"] and "Traceback" not in incident["error"]
    for fragment in fragments:
        assert fragment in incident["error"], incident["error"]
    assert incident["ended_at"] is None
    trail = _audit(client, incident_id)
    errors = [row for row in trail if row["kind"] == "incident_error"]
    assert len(errors) == 1
    assert errors[0]["to_state"] == "error" and errors[0]["data"]["reason"] == incident["error"]
    assert "incident_completed" not in [row["kind"] for row in trail]
    listed = client.get("/api/v1/incidents?status=error").get_json()["items"]
    assert [i["id"] for i in listed] == [incident_id]
    assert client.get("/healthz").status_code == 200
    return incident


@pytest.mark.parametrize(("fixture", "form", "expected"), [
    ("runtime_compare", {"count": 7}, ("Gateway_Compare", "count > 'a'")),
    ("runtime_int", {"summary": "seven"}, ("Gateway_Compare", "int(summary)")),
])
def test_a_condition_that_fails_at_run_time_puts_the_incident_in_error(client, fixture: str, form: dict[str, Any],  # type: ignore[no-untyped-def]
                                                                      expected: tuple[str, ...]) -> None:
    assert upload_active(client, FIXTURES / f"{fixture}.bpmn").status_code == 201
    incident = start(client, fixture).get_json()
    task = open_task(incident, "Task_Count")
    response = complete(client, task, form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "error"
    failed = _assert_failed(client, incident["id"], *expected)
    # the last good state is kept, but its tasks leave the queues at once (issue 11): nobody may work them
    assert failed["open_tasks"] == []
    assert [t for t in client.get("/api/v1/tasks").get_json()["items"] if t["incident_id"] == incident["id"]] == []
    trail = _audit(client, incident["id"])
    assert not [r for r in trail if r["element_id"] == "Task_Count" and r["to_state"] == "completed"]
    assert not [r for r in trail if r["element_id"] in ("Task_Many", "Task_Few")]
    # further completions are refused: the incident is not running
    again = complete(client, task, form)
    assert again.status_code == 409
    assert again.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["status"] == "error"
    # other incidents still run
    other = start(client, fixture).get_json()
    assert other["status"] == "running"


def test_a_failed_incident_can_still_be_cancelled(client) -> None:  # type: ignore[no-untyped-def]
    assert upload_active(client, FIXTURES / "runtime_compare.bpmn").status_code == 201
    incident = start(client, "runtime_compare").get_json()
    complete(client, open_task(incident, "Task_Count"), {"count": 1})
    cancelled = client.post(f"/api/v1/incidents/{incident['id']}/cancel", json={"reason": "bad model"})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"


# --- the loop cap -------------------------------------------------------------------------------------
@pytest.fixture
def capped_client(database_url: str) -> Iterator[Any]:
    from api import create_app

    eng = IncidentEngine(make_settings(database_url, loop_cap=5))
    app = create_app(eng.settings, eng)
    app.testing = True
    yield admin_test_client(app)
    eng.db.dispose()


def test_a_rework_loop_past_the_cap_ends_in_error_never_completed(capped_client) -> None:  # type: ignore[no-untyped-def]
    client = capped_client
    assert upload_active(client, FIXTURES / "rework_loop.bpmn").status_code == 201
    incident = start(client, "rework_loop").get_json()
    passes = 0
    for _ in range(20):
        if incident["status"] != "running":
            break
        task = open_task(incident, "Task_Work")
        response = complete(client, task, {"ok": False})
        assert response.status_code == 200, response.get_json()
        incident = response.get_json()
        passes += 1
    assert incident["status"] == "error", f"still {incident['status']} after {passes} failed checks"
    assert 4 <= passes <= 6, passes  # the cap is 5 passes per element
    failed = _assert_failed(client, incident["id"], "loop cap")
    assert "Task_Work" in failed["error"] or "Gateway_Check" in failed["error"]
    # passing the check now is refused: the incident must never reach "completed"; its task left the queues
    assert failed["open_tasks"] == []
    assert complete(client, task, {"ok": True}).status_code == 409
    assert client.get(f"/api/v1/incidents/{incident['id']}").get_json()["status"] == "error"


def test_a_rework_loop_under_the_cap_completes(capped_client) -> None:  # type: ignore[no-untyped-def]
    client = capped_client
    assert upload_active(client, FIXTURES / "rework_loop.bpmn").status_code == 201
    incident = start(client, "rework_loop").get_json()
    for _ in range(3):
        incident = complete(client, open_task(incident, "Task_Work"), {"ok": False}).get_json()
        assert incident["status"] == "running"
    incident = complete(client, open_task(incident, "Task_Work"), {"ok": True}).get_json()
    assert incident["status"] == "completed"


# --- the merge rule at a parallel join ----------------------------------------------------------------
@pytest.mark.parametrize("order", [("Task_A", "Task_B"), ("Task_B", "Task_A")], ids=["A-first", "B-first"])
def test_the_join_keeps_what_branch_a_wrote_whatever_the_order(client, order: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    assert upload_active(client, FIXTURES / "parallel_merge.bpmn").status_code == 201
    incident = start(client, "parallel_merge", {"x": "original", "items": [1, 2, 3]}).get_json()
    assert {t["element_id"] for t in incident["open_tasks"]} == {"Task_A", "Task_B"}
    submissions = {"Task_A": {"x": "from A", "items": ["a"]}, "Task_B": {"b_done": True}}
    for element_id in order:
        response = complete(client, open_task(incident, element_id), submissions[element_id])
        assert response.status_code == 200, response.get_json()
        incident = response.get_json()
    assert incident["status"] == "running", incident["error"]
    # Task_Merged opens only when x == 'from A' and items == ['a'] (and B's own write arrived) after the join
    assert [t["element_id"] for t in incident["open_tasks"]] == ["Task_Merged"]
    trail = _audit(client, incident["id"])
    taken = [r["data"]["taken"][0]["flow"] for r in trail if r["element_id"] == "Gateway_Inspect"
             and r["kind"] == "gateway"]
    assert taken == ["Flow_XKept"]
    done = complete(client, open_task(incident, "Task_Merged"), {}).get_json()
    assert done["status"] == "completed"
