"""Each class of bad input the schemathesis probe turned into a 500 is a clear 4xx, on both databases, on both edges."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from .helpers import BUNDLED, upload_active

MISSING = "00000000-0000-4000-8000-000000000000"


def _problem(response: Any, status: int = 422) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    assert response.headers["Content-Type"] == "application/problem+json"
    json.loads(text)  # strict JSON: never a bare NaN
    return response.get_json()


def _camunda(response: Any, status: int = 400) -> dict[str, Any]:
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:500]
    body = json.loads(text)
    assert set(body) >= {"type", "message"}, body
    return body


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _raw(client: Any, path: str, text: str, **headers: str) -> Any:
    return client.post(path, data=text.encode("utf-8", "surrogatepass"), content_type="application/json",
                       headers=headers)


@pytest.mark.parametrize("number", ["2147483648", "99999999999", "9" * 5000])
def test_path_integers_beyond_the_database_are_404(client, number: str) -> None:  # type: ignore[no-untyped-def]
    _problem(client.get(f"/api/v1/procedures/major_incident/versions/{number}"), 404)
    _problem(client.get(f"/api/v1/procedures/major_incident/versions/{number}/lint"), 404)


@pytest.mark.parametrize("query", ["version=2147483648", "version=" + "9" * 5000, "limit=99999999999999999999"])
def test_query_integers_beyond_the_database_are_422(client, query: str) -> None:  # type: ignore[no-untyped-def]
    path = "/api/v1/monitoring/procedures/major_incident" if query.startswith("version") else "/api/v1/incidents"
    body = _problem(client.get(f"{path}?{query}"))
    assert body["errors"][0]["field"] in ("query.version", "query.limit")


@pytest.mark.parametrize("query", ["firstResult=99999999999999999999", "maxResults=2147483648",
                                   "firstResult=" + "9" * 5000])
def test_dialect_integers_beyond_range_are_camunda_400(client, query: str) -> None:  # type: ignore[no-untyped-def]
    body = _camunda(client.get(f"/engine-rest/process-instance?{query}"))
    assert body["type"] == "InvalidRequestException"


@pytest.mark.parametrize("path", ["/api/v1/procedures/a%00b", "/api/v1/incidents/a%00b", "/api/v1/tasks?lane=a%00b",
                                  "/api/v1/incidents?procedure=x%00"])
def test_nul_bytes_in_path_and_query_are_422(client, path: str) -> None:  # type: ignore[no-untyped-def]
    _problem(client.get(path))


def test_nul_bytes_on_the_dialect_are_camunda_400(client) -> None:  # type: ignore[no-untyped-def]
    _camunda(client.get("/engine-rest/process-definition/key/a%00b"))
    _camunda(client.post("/engine-rest/process-definition/key/x/start", json={"businessKey": "a\x00b"}))


@pytest.mark.parametrize("body", [
    '{"procedure": "major_incident", "reference": "a\\u0000b", "data": {}}',
    '{"procedure": "major_incident", "data": {"summary": "x\\u0000"}}',
    '{"procedure": "major_incident", "data": {"summary": "\\ud800"}}',
    '{"procedure": "major_incident", "data": {"\\udfff": 1}}',
    '{"procedure": "major_incident", "data": {"p": NaN}}',
    '{"procedure": "major_incident", "data": {"p": -Infinity}}',
    '{"procedure": "major_incident", "data": {"p": 1e400}}',
    '{"procedure": "major_incident", "data": {"p": ' + "9" * 5000 + "}}",
    '{"procedure": "major_incident", "data": {"p": ' + str(2**64) + "}}",
    '{"procedure": "major_incident", "version": 1099511627776, "data": {}}',
    '{"procedure": "major_incident", "data": {"p": ' + "[" * 600 + "]" * 600 + "}}",
    '{"procedure": "major_incident", "data": {"p": ' + "[" * 100_000 + "]" * 100_000 + "}}",
])
def test_bad_json_bodies_are_422_and_change_nothing(client, body: str) -> None:  # type: ignore[no-untyped-def]
    upload_active(client, BUNDLED / "major_incident.bpmn")
    _problem(_raw(client, "/api/v1/incidents", body))
    assert client.get("/api/v1/incidents").get_json()["items"] == []


def test_nan_from_the_dialect_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    upload_active(client, BUNDLED / "major_incident.bpmn")
    response = _raw(client, "/engine-rest/process-definition/key/major_incident/start",
                    '{"variables": {"p": {"value": NaN}}}')
    assert "NaN" in _camunda(response)["message"]
    assert client.get("/api/v1/incidents").get_json()["items"] == []


@pytest.mark.parametrize("path", ["/api/v1/incidents", "/api/v1/tasks", "/api/v1/audit?procedure=x",
                                  "/api/v1/strategies", "/api/v1/deployments"])
@pytest.mark.parametrize("cursor", [
    _cursor({"t": 1, "id": 2}), _cursor({"t": "not a time", "id": "x"}), _cursor({"id": "x"}), _cursor([1]),
    _cursor({"t": "2026-01-01T00:00:00", "id": "x" * 1000}), _cursor({"id": -1}), _cursor({"id": 2**70}),
    _cursor({"t": "2026-01-01T00:00:00", "id": "a\x00b"}), "!!!", "A" * 5000,
])
def test_crafted_cursors_are_422(client, path: str, cursor: str) -> None:  # type: ignore[no-untyped-def]
    joiner = "&" if "?" in path else "?"
    body = _problem(client.get(f"{path}{joiner}cursor={cursor}"))
    assert body["errors"][0]["field"] == "cursor"


def test_issued_cursors_still_page(client) -> None:  # type: ignore[no-untyped-def]
    upload_active(client, BUNDLED / "major_incident.bpmn")
    for n in range(3):
        client.post("/api/v1/incidents", json={"procedure": "major_incident", "reference": f"R{n}",
                                               "data": {"priority": "P2", "summary": "s", "caller_id": "c"}})
    first = client.get("/api/v1/incidents?limit=2").get_json()
    second = client.get(f"/api/v1/incidents?limit=2&cursor={first['next_cursor']}").get_json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    audit = client.get("/api/v1/audit?procedure=major_incident&limit=1").get_json()
    assert client.get(f"/api/v1/audit?procedure=major_incident&limit=1&cursor={audit['next_cursor']}").status_code == 200


def test_over_long_idempotency_key_is_422(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/tasks/{MISSING}/complete", json={"data": {}},
                           headers={"Idempotency-Key": "k" * 256})
    assert _problem(response)["errors"][0]["field"] == "header.Idempotency-Key"
    assert client.post(f"/api/v1/tasks/{MISSING}/complete", json={"data": {}},
                       headers={"Idempotency-Key": "k" * 255}).status_code == 404


@pytest.mark.parametrize("claims", [{"user": "u" * 256}, {"user": "a\x00b"}, {"user": "ok", "groups": ["g\x00"]},
                                    {"user": "ok", "groups": ["g" * 300]}])
def test_unstorable_token_claims_are_401(app, token, claims: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    claims = dict(claims)
    jwt = token(claims.pop("user"), ["admin"], **claims)
    response = app.test_client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {jwt}"})
    assert response.status_code == 401, response.get_data(as_text=True)
    assert app.test_client().get("/engine-rest/task", headers={"Authorization": f"Bearer {jwt}"}).status_code == 401


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_numeric_date_claims_must_be_numbers(app, claim: str) -> None:  # type: ignore[no-untyped-def]
    import time

    import jwt as pyjwt

    from tests.conftest import TEST_JWT_SECRET

    now = int(time.time())
    payload = {"sub": "u", "roles": ["admin"], "exp": now + 600, "nbf": now - 10, "iat": now - 10}
    good = pyjwt.encode(payload, TEST_JWT_SECRET, algorithm="HS256")
    assert app.test_client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    payload[claim] = str(payload[claim])
    bad = pyjwt.encode(payload, TEST_JWT_SECRET, algorithm="HS256")
    response = app.test_client().get("/api/v1/incidents", headers={"Authorization": f"Bearer {bad}"})
    assert response.status_code == 401 and claim in response.get_json()["detail"]


def test_error_responses_are_documented_as_problem_json(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").get_json()
    wrong = [(path, method, code) for path, item in spec["paths"].items() for method, op in item.items()
             if isinstance(op, dict) for code, response in op.get("responses", {}).items()
             if (code == "default" or code[0] in "45") and "application/json" in response.get("content", {})]
    assert wrong == []
    unbounded = [(path, p["name"]) for path, item in spec["paths"].items() for op in item.values()
                 if isinstance(op, dict) for p in op.get("parameters", [])
                 if p.get("schema", {}).get("type") == "integer" and "maximum" not in p["schema"]]
    assert unbounded == []
