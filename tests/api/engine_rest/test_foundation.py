"""The dialect's foundation: both mount points, identity (Bearer and Basic), 401 challenge, error bodies."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import REST, basic
from .shapes import is_error


@pytest.mark.parametrize("base", [REST, f"{REST}/engine/default"])
def test_version_on_both_mount_points(client: Any, base: str) -> None:
    response = client.get(f"{base}/version")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"version": "7.24.0"}


def test_no_credentials_is_401_with_a_basic_challenge(app: Any) -> None:
    # Camunda Modeler probes without credentials; a 401 is what makes it show its login fields
    response = app.test_client().get(f"{REST}/deployment?maxResults=0")
    is_error(response, 401, "AuthenticationException")
    challenges = response.headers.getlist("WWW-Authenticate")
    assert 'Basic realm="default"' in challenges and any(c.startswith("Bearer") for c in challenges)


def test_the_same_bearer_tokens_as_api_v1(app: Any, token: Any) -> None:
    client = app.test_client()
    good = {"Authorization": f"Bearer {token('alice', ['agent'])}"}
    assert client.get(f"{REST}/version", headers=good).status_code == 200
    is_error(client.get(f"{REST}/version", headers={"Authorization": "Bearer not-a-jwt"}), 401)


def test_http_basic_against_the_credentials_file(app: Any) -> None:
    client = app.test_client()
    response = client.get(f"{REST}/process-definition", headers=basic("alice", "alice-pass"))
    assert response.status_code == 200 and len(response.get_json()) == 4
    for wrong in (basic("alice", "wrong"), basic("nobody", "alice-pass"), {"Authorization": "Basic %%%"},
                  {"Authorization": "Digest x"}):
        is_error(client.get(f"{REST}/version", headers=wrong), 401, "AuthenticationException")


def test_basic_users_keep_their_roles(app: Any) -> None:
    # the worker has only the integration role: starting an incident needs agent or supervisor
    response = app.test_client().post(f"{REST}/process-definition/key/major_incident/start", json={},
                                      headers=basic("worker", "s3cret-worker"))
    is_error(response, 403, "AuthorizationException")


def test_the_credentials_file_never_holds_a_password(credentials_file: Any) -> None:
    text = credentials_file.read_text()
    assert "alice-pass" not in text and "$argon2id$" in text
    assert oct(credentials_file.stat().st_mode & 0o777) == "0o600"


def test_unknown_paths_and_methods_get_camunda_bodies(client: Any) -> None:
    is_error(client.get(f"{REST}/job?processInstanceId=x"), 404, "NotFoundException")
    is_error(client.get(f"{REST}/engine/default/case-instance"), 404)
    response = client.put(f"{REST}/version")
    is_error(response, 405)
    assert response.headers["Allow"] == "GET"


def test_bad_json_and_bad_parameters_are_400(client: Any) -> None:
    response = client.post(f"{REST}/task", data="{nope", content_type="application/json")
    is_error(response, 400, "InvalidRequestException")
    is_error(client.get(f"{REST}/task?maxResults=many"), 400, "InvalidRequestException")
    is_error(client.get(f"{REST}/task?dueBefore=yesterday"), 400)


def test_an_unexpected_failure_is_a_camunda_500_without_internals(client: Any, monkeypatch: Any) -> None:
    from engine.services import procedures

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(procedures, "search", boom)
    body = is_error(client.get(f"{REST}/process-definition"), 500, "ProcessEngineException")
    assert "secret" not in body["message"]


def test_the_default_engine_mount_serves_writes_too(client: Any) -> None:
    base = f"{REST}/engine/default"
    response = client.post(f"{base}/process-definition/key/major_incident/start", json={"variables": {
        "priority": {"value": "P2"}, "summary": {"value": "x"}, "caller_id": {"value": "C"}}})
    assert response.status_code == 200
    instance = response.get_json()
    assert instance["links"][0]["href"].endswith(f"/engine-rest/engine/default/process-instance/{instance['id']}")
    task = client.get(f"{base}/task?processInstanceId={instance['id']}").get_json()[0]
    assert client.post(f"{base}/task/{task['id']}/claim", json={"userId": "admin"}).status_code == 204
