"""The hand-written dumps of the two hot responses write exactly what their marshmallow schemas write."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from api import lean_dumps
from api import tasks as tasks_routes
from api.schemas.incidents import IncidentSchema, TaskPageSchema, TaskSchema

from .helpers import FIXTURES, complete, open_task, start, upload_active


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Every view the two routes dump, with the hand-written result, as the routes produce them."""
    seen: list[tuple[str, Any, Any]] = []

    def spy(kind: str, real: Any) -> Any:
        def wrapper(view: Any) -> Any:
            out = real(view)
            seen.append((kind, view, out))
            return out
        return wrapper

    monkeypatch.setattr(tasks_routes, "dump_incident", spy("incident", lean_dumps.dump_incident))
    monkeypatch.setattr(tasks_routes, "dump_task_page", spy("page", lean_dumps.dump_task_page))
    return seen


def _value(field: dict[str, Any]) -> Any:
    return {"boolean": True, "long": 1, "double": 1.5, "enum": (field["options"] or [{"id": "x"}])[0]["id"],
            "date": "2026-12-01T00:00:00"}.get(field["type"], "text")


def _as_json(document: Any) -> Any:
    return json.loads(json.dumps(document, sort_keys=True, default=str))


def test_completions_and_queue_pages_are_the_documents_the_schemas_write(
        client: Any, recorded: list[tuple[str, Any, Any]]) -> None:
    assert upload_active(client, FIXTURES / "simple_flow.bpmn").status_code == 201
    incident = start(client, "simple_flow").get_json()
    page = client.get("/api/v1/tasks?limit=1")
    assert page.status_code == 200
    done = complete(client, open_task(incident, "Task_Log"), {"summary": "line down", "ok": True})
    assert done.status_code == 200, done.get_json()
    assert client.get("/api/v1/tasks").status_code == 200
    # the rework branch and the end: every open task completed until the incident is done
    body = done.get_json()
    while body["status"] == "running" and body["open_tasks"]:
        task = body["open_tasks"][0]
        answer = complete(client, task, {f["id"]: _value(f) for f in task["form"] if f["required"]})
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
    assert {kind for kind, _view, _out in recorded} == {"incident", "page"}
    assert len(recorded) >= 4
    for kind, view, out in recorded:
        schema = IncidentSchema() if kind == "incident" else TaskPageSchema()
        assert out == schema.dump(view), kind
    # and what went over the wire is that document
    assert page.get_json() == _as_json(TaskPageSchema().dump(recorded[0][1]))
    assert page.get_json()["items"] and page.get_json()["next_cursor"]
    assert done.get_json() == _as_json(IncidentSchema().dump(next(v for k, v, _o in recorded if k == "incident")))


_WHEN = datetime(2026, 12, 1, 15, 30, 1, 123456, tzinfo=timezone(timedelta(hours=2)))


def _task(**overrides: Any) -> dict[str, Any]:
    task = {
        "id": "t1", "incident_id": "i1", "procedure": "p", "element_id": "Task_A", "name": None, "lane": "L",
        "candidate_groups": ["g1", "g2"], "candidate_users": [], "assignee": None, "state": "ready",
        "form": [{"id": "sev", "label": "Severity", "type": "enum", "required": True,
                  "options": [{"id": "P1", "name": "Critical"}, {"id": "P2", "name": None}], "default": "P2"},
                 {"id": "n", "label": None, "type": "long", "required": 0, "options": [], "default": 3}],
        "documentation": "do it", "created_at": _WHEN, "due_at": None, "follow_up_at": _WHEN.replace(tzinfo=None),
        "priority": 50, "form_key": None, "claimed_at": None, "ended_at": None, "ended_by": None, "test": False,
    }
    task.update(overrides)
    return task


@pytest.mark.parametrize("task", [
    _task(),
    _task(camunda_form={"id": "f", "schema": {"components": []}}, camunda_form_error="unresolved"),
    _task(camunda_form=None, priority=True, test=1, assignee=7, candidate_users=None, form=None),
    _task(test="yes", priority=Decimal("12"), due_at=_WHEN),
    {k: v for k, v in _task().items() if k not in ("documentation", "follow_up_at", "form", "test")},
    {"id": "only"},
])
def test_a_task_is_written_as_task_schema_writes_it(task: dict[str, Any]) -> None:
    assert lean_dumps.dump_task(task) == TaskSchema().dump(task)
    assert lean_dumps.dump_task_page({"items": [task], "next_cursor": None}) == \
        TaskPageSchema().dump({"items": [task], "next_cursor": None})


def _incident(**overrides: Any) -> dict[str, Any]:
    incident = {
        "id": "i1", "procedure": "major_incident", "version": 3, "procedure_id": "not-in-the-schema",
        "reference": None, "status": "running", "data": {"a": 1, "nested": {"b": [1, 2]}, "when": "x"},
        "error": None, "created_at": _WHEN, "updated_at": _WHEN, "ended_at": None, "created_by": "bench",
        "next_timer_at": None, "test": True, "open_tasks": [_task(), _task(id="t2", camunda_form={"k": 1})],
        "parent_incident_id": None,
    }
    incident.update(overrides)
    return incident


@pytest.mark.parametrize("incident", [
    _incident(),
    _incident(child_incidents=[{"id": "c1", "procedure": "sub", "version": 1, "status": "running",
                                "parent_task_id": "t9"}], parent_incident_id="p0"),
    _incident(open_tasks=[], status="completed", ended_at=_WHEN, data={}, version="4", test=0),
    _incident(open_tasks=None, data=None, error="boom"),
    {k: v for k, v in _incident().items() if k not in ("parent_incident_id", "next_timer_at")},
])
def test_an_incident_is_written_as_incident_schema_writes_it(incident: dict[str, Any]) -> None:
    assert lean_dumps.dump_incident(incident) == IncidentSchema().dump(incident)


def test_the_copies_do_not_share_the_views_containers() -> None:
    incident = _incident()
    out = lean_dumps.dump_incident(incident)
    out["data"]["a"] = 2
    out["open_tasks"][0]["candidate_groups"].append("g3")
    assert incident["data"]["a"] == 1 and incident["open_tasks"][0]["candidate_groups"] == ["g1", "g2"]
