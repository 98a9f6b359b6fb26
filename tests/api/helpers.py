"""Small helpers for API tests."""
from __future__ import annotations

from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn"
BUNDLED = Path(__file__).resolve().parent.parent.parent / "bpmn"


def upload(client: Any, path: Path, **query: str) -> Any:
    return client.post("/api/v1/procedures", data=path.read_bytes(), content_type="application/xml",
                       query_string=query)


def upload_active(client: Any, path: Path, **query: str) -> Any:
    """Upload, then take the version live through governance (tests/support/procedures.py); the upload's response."""
    from tests.support.procedures import activate

    response = upload(client, path, **query)
    assert response.status_code in (200, 201), response.get_json()
    body = response.get_json()
    activate(client, body["key"], body["version"])
    return response


def start(client: Any, procedure: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post("/api/v1/incidents", json={"procedure": procedure, "data": data or {}, **extra})


def open_task(incident: dict[str, Any], element_id: str) -> dict[str, Any]:
    found = [t for t in incident["open_tasks"] if t["element_id"] == element_id]
    assert found, f"{element_id} not open; open: {[t['element_id'] for t in incident['open_tasks']]}"
    return found[0]


def complete(client: Any, task: dict[str, Any], data: dict[str, Any], **headers: str) -> Any:
    return client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data}, headers=headers)
