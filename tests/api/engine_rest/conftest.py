"""Fixtures for the Camunda dialect: the bundled procedures deployed, callers by bearer token or Basic."""
from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.identity.credentials import add_user
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import deploy_bundled

REST = "/engine-rest"


@pytest.fixture
def credentials_file(tmp_path: Path) -> Path:
    path = tmp_path / "basic-users.json"
    add_user(path, "worker", "s3cret-worker", ["integration"], ["*"])
    add_user(path, "alice", "alice-pass", ["agent"], ["service-desk", "incident-managers"])
    return path


@pytest.fixture
def engine(database_url: str, credentials_file: Path):  # type: ignore[no-untyped-def]
    eng = IncidentEngine(make_settings(database_url, basic_credentials_file=credentials_file))
    deploy_bundled(eng)
    yield eng
    eng.db.dispose()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def rest_as(app, token) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    """rest_as(user, roles, groups) -> a test client sending that user's bearer token."""

    def make(user: str, roles: tuple[str, ...] = ("agent",), groups: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token(user, roles, groups)}"
        return client

    return make


MAJOR_START = {"priority": {"value": "P1", "type": "String"}, "summary": {"value": "Payments line down"},
               "caller_id": {"value": "C-77", "type": None, "valueInfo": None}}


def start_major(client: Any, business_key: str = "CRM-1", **extra: Any) -> dict[str, Any]:
    response = client.post(f"{REST}/process-definition/key/major_incident/start",
                           json={"variables": MAJOR_START, "businessKey": business_key, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]
