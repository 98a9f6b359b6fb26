"""Every error is application/problem+json (RFC 9457): never an HTML page, never a stack trace."""
from __future__ import annotations

from typing import Any

import pytest

from .helpers import FIXTURES, open_task, start, upload_active

MISSING = "00000000-0000-4000-8000-000000000000"


def _problem(response: Any, status: int) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:1000]
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "<html" not in text.lower() and "Traceback" not in text
    body = response.get_json()
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert body["status"] == status
    return body


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v2/procedures", "/api/v1/procedures/x/y/z"])
def test_unknown_route_is_404(client, path: str) -> None:  # type: ignore[no-untyped-def]
    _problem(client.get(path), 404)


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("delete", "/api/v1/procedures", {"GET", "POST"}),
    ("put", "/api/v1/incidents", {"GET", "POST"}),
    ("get", f"/api/v1/tasks/{MISSING}/complete", {"POST"}),
    ("post", "/healthz", {"GET"}),
    ("patch", f"/api/v1/incidents/{MISSING}", {"GET"}),
])
def test_wrong_method_is_405_with_allow(client, method: str, path: str, allowed: set[str]) -> None:  # type: ignore[no-untyped-def]
    response = getattr(client, method)(path)
    _problem(response, 405)
    assert "Allow" in response.headers
    offered = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= offered
    assert method.upper() not in offered


@pytest.mark.parametrize("path", [
    f"/api/v1/incidents/{MISSING}",
    f"/api/v1/incidents/{MISSING}/audit",
    f"/api/v1/tasks/{MISSING}",
    "/api/v1/procedures/no_such_procedure",
    "/api/v1/procedures/no_such_procedure/versions/1",
    "/api/v1/procedures/no_such_procedure/versions/1/bpmn",
    "/api/v1/incidents/not-even-a-uuid",
    "/api/v1/tasks/not-even-a-uuid",
])
def test_unknown_ids_are_404(client, path: str) -> None:  # type: ignore[no-untyped-def]
    _problem(client.get(path), 404)


def test_unknown_ids_are_404_on_writes_too(client) -> None:  # type: ignore[no-untyped-def]
    _problem(client.post(f"/api/v1/tasks/{MISSING}/complete", json={"data": {}}), 404)
    _problem(client.post(f"/api/v1/incidents/{MISSING}/cancel", json={"reason": "x"}), 404)


def test_an_unknown_version_of_a_known_procedure_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert upload_active(client, FIXTURES / "simple_flow.bpmn").status_code == 201
    _problem(client.get("/api/v1/procedures/simple_flow/versions/2"), 404)
    _problem(client.get("/api/v1/procedures/simple_flow/versions/2/bpmn"), 404)


@pytest.mark.parametrize("query", [
    "status=bogus", "limit=0", "limit=-1", "limit=501", "limit=ten", "cursor=!!!",
])
def test_bad_incident_query_params_are_422(client, query: str) -> None:  # type: ignore[no-untyped-def]
    body = _problem(client.get(f"/api/v1/incidents?{query}"), 422)
    assert body.get("errors") and all(e["message"] for e in body["errors"])


@pytest.mark.parametrize("path", ["/api/v1/tasks?state=bogus", "/api/v1/tasks?limit=0",
                                  "/api/v1/audit?limit=0", "/api/v1/audit?since=yesterday"])
def test_bad_query_params_elsewhere_are_422(client, path: str) -> None:  # type: ignore[no-untyped-def]
    body = _problem(client.get(path), 422)
    assert body.get("errors")


def test_the_bad_parameter_is_named(client) -> None:  # type: ignore[no-untyped-def]
    body = _problem(client.get("/api/v1/incidents?status=bogus"), 422)
    assert any("status" in (e.get("field") or "") for e in body["errors"])


@pytest.mark.parametrize("payload", [b"{not json", b'{"procedure": ', b"[1, 2", b"\xff\xfe\x00"])
def test_an_invalid_json_body_is_400_or_422(client, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/incidents", data=payload, content_type="application/json")
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:500]
    _problem(response, response.status_code)


@pytest.mark.parametrize("payload", [{"procedure": ""}, {"data": {}}, {"procedure": "x", "data": [1]},
                                     {"procedure": "x", "version": 0}, [1, 2, 3]])
def test_a_body_that_breaks_the_schema_is_422(client, payload: Any) -> None:  # type: ignore[no-untyped-def]
    _problem(client.post("/api/v1/incidents", json=payload), 422)


def test_completing_with_non_object_data_is_422(client) -> None:  # type: ignore[no-untyped-def]
    assert upload_active(client, FIXTURES / "simple_flow.bpmn").status_code == 201
    incident = start(client, "simple_flow").get_json()
    task = open_task(incident, "Task_Log")
    _problem(client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": "text"}), 422)
    bad = client.post(f"/api/v1/tasks/{task['id']}/complete", data=b"{oops", content_type="application/json")
    assert bad.status_code in (400, 422)
    _problem(bad, bad.status_code)


def test_an_unexpected_exception_is_a_bare_500(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from engine.services import incidents, procedures

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail /etc/passwd")

    monkeypatch.setattr(incidents, "page", boom)
    monkeypatch.setattr(procedures, "latest", boom)
    for path in ("/api/v1/incidents", "/api/v1/procedures"):
        response = client.get(path)
        body = _problem(response, 500)
        text = response.get_data(as_text=True)
        assert "secret detail" not in text
        assert "Traceback" not in text and "RuntimeError" not in text and ".py" not in text
        assert body["title"]
    # the next request is served normally
    assert client.get("/healthz").status_code == 200


def test_an_unexpected_exception_while_uploading_is_a_bare_500(client, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from engine.services import procedures

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("secret detail")

    monkeypatch.setattr(procedures, "deploy", boom)
    response = client.post("/api/v1/procedures", data=(FIXTURES / "simple_flow.bpmn").read_bytes(),
                           content_type="application/xml")
    _problem(response, 500)
    assert "secret detail" not in response.get_data(as_text=True)
