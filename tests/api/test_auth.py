"""Authentication at the edge: forged, expired and malformed tokens are 401; docs and health stay open."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api import create_app
from api.cli import main as cli
from engine.identity.tokens import issue_token
from engine.services.engine_app import IncidentEngine
from tests.conftest import TEST_JWT_SECRET, bearer, make_settings


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """Authentication does not depend on the database: SQLite only."""
    path = tmp_path / "engine.sqlite3"
    shutil.copy(sqlite_template, path)
    yield f"sqlite:///{path}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _handmade(header: dict[str, Any], payload: dict[str, Any], sign: Any = None) -> str:
    """A token put together by hand, for the forgeries PyJWT refuses to produce."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{_b64(signature)}"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims = {"sub": "mallory", "roles": ["admin"], "groups": [], "iat": int(now.timestamp()),
              "exp": int((now + timedelta(hours=1)).timestamp())}
    claims.update(overrides)
    return claims


def _assert_401(response: Any, error: str | None = "invalid_token") -> None:
    assert response.status_code == 401, response.get_json()
    assert response.headers["Content-Type"] == "application/problem+json"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="incident-engine"')
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    assert response.get_json()["status"] == 401


def test_a_valid_token_is_accepted(client: Any, token: Any) -> None:
    response = client.get("/api/v1/tasks", headers=bearer(token("alice", ["agent"], ["team-a"])))
    assert response.status_code == 200


def test_no_token_is_a_challenge(client: Any) -> None:
    for path in ("/api/v1/tasks", "/api/v1/procedures", "/api/v1/audit", "/api/v1/no-such-thing"):
        _assert_401(client.get(path, headers={"Authorization": ""}), error=None)


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Token abc"])
def test_another_scheme_is_refused(client: Any, header: str) -> None:
    _assert_401(client.get("/api/v1/tasks", headers={"Authorization": header}), error="invalid_request")


FORGERIES = {
    "wrong key": lambda: jwt.encode(_claims(), "another-secret-that-is-long-enough-0123456789", algorithm="HS256"),
    "expired": lambda: jwt.encode(_claims(exp=int(datetime.now(UTC).timestamp()) - 3600), TEST_JWT_SECRET,
                                  algorithm="HS256"),
    "not yet valid": lambda: jwt.encode(_claims(nbf=int(datetime.now(UTC).timestamp()) + 3600), TEST_JWT_SECRET,
                                        algorithm="HS256"),
    "alg none": lambda: _handmade({"alg": "none", "typ": "JWT"}, _claims()),
    "alg None, signed anyway": lambda: _handmade(
        {"alg": "None"}, _claims(), lambda m: hmac.new(TEST_JWT_SECRET.encode(), m, hashlib.sha256).digest()),
    "HS512 with the right secret": lambda: jwt.encode(_claims(), TEST_JWT_SECRET, algorithm="HS512"),
    "tampered payload": lambda: _tampered(),
    "no exp": lambda: jwt.encode({"sub": "mallory", "roles": ["admin"]}, TEST_JWT_SECRET, algorithm="HS256"),
    "garbage": lambda: "not.a.token",
    "huge": lambda: "a" * 20000,
}


def _tampered() -> str:
    good = jwt.encode(_claims(roles=["agent"]), TEST_JWT_SECRET, algorithm="HS256")
    header, _payload, signature = good.split(".")
    return f"{header}.{_b64(json.dumps(_claims(roles=['admin'])).encode())}.{signature}"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_and_stale_tokens_are_401(client: Any, forgery: str) -> None:
    _assert_401(client.get("/api/v1/tasks", headers=bearer(FORGERIES[forgery]())))


@pytest.fixture
def rsa_files(tmp_path: Path) -> dict[str, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {"private": tmp_path / "idp.pem", "public": tmp_path / "idp.pub.pem"}
    files["private"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
    files["public"].write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return files


@pytest.fixture
def rs_client(engine: IncidentEngine, rsa_files: dict[str, Path], tmp_path: Path) -> Any:
    """The app configured like an identity provider deployment: RS256, a public key, issuer and audience."""
    settings = make_settings(engine.settings.database_url, jwt_algorithm="RS256", jwt_secret=None,
                             jwt_public_key_file=rsa_files["public"], jwt_issuer="https://idp.example/realms/cc",
                             jwt_audience="incident-engine", instance_dir=tmp_path / "instance")
    app = create_app(settings, IncidentEngine(settings, db=engine.db))
    app.testing = True
    app.config["RS_SETTINGS"] = settings
    return app.test_client()


def test_rs256_tokens_from_the_identity_provider_are_accepted(rs_client: Any, rsa_files: dict[str, Path]) -> None:
    settings = rs_client.application.config["RS_SETTINGS"]
    good = issue_token(settings, user="alice", roles=["agent"], groups=["team-a"], private_key=rsa_files["private"])
    assert rs_client.get("/api/v1/tasks", headers=bearer(good)).status_code == 200
    assert not (settings.instance_dir / "jwt-secret").exists()  # no HS secret is made for an RS deployment


def test_hs256_signed_with_the_rs256_public_key_is_refused(rs_client: Any, rsa_files: dict[str, Path]) -> None:
    """The classic algorithm-confusion forgery: the public key, which anyone may have, used as an HMAC secret."""
    public_pem = rsa_files["public"].read_bytes()
    claims = _claims(iss="https://idp.example/realms/cc", aud="incident-engine")
    for pem in (public_pem, public_pem.strip()):
        forged = _handmade({"alg": "HS256", "typ": "JWT"}, claims,
                           lambda m, pem=pem: hmac.new(pem, m, hashlib.sha256).digest())
        _assert_401(rs_client.get("/api/v1/tasks", headers=bearer(forged)))


def test_rs256_signed_by_another_key_or_for_another_audience_is_refused(rs_client: Any, tmp_path: Path,
                                                                       rsa_files: dict[str, Path]) -> None:
    settings = rs_client.application.config["RS_SETTINGS"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "other.pem").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    forged = issue_token(settings, user="mallory", roles=["admin"], private_key=tmp_path / "other.pem")
    _assert_401(rs_client.get("/api/v1/tasks", headers=bearer(forged)))
    elsewhere = issue_token(settings.__class__(**{**settings.__dict__, "jwt_audience": "billing"}),
                            user="alice", roles=["agent"], private_key=rsa_files["private"])
    _assert_401(rs_client.get("/api/v1/tasks", headers=bearer(elsewhere)))


def test_health_and_docs_need_no_token(client: Any) -> None:
    no_token = {"Authorization": ""}
    assert client.get("/healthz", headers=no_token).status_code == 200
    assert client.get("/openapi.json", headers=no_token).status_code == 200
    docs = client.get("/docs", headers=no_token)
    assert docs.status_code == 200 and b"persistAuthorization" in docs.data


def test_the_openapi_document_declares_the_bearer_scheme_and_each_operations_roles(client: Any) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": spec["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert spec["security"] == [{"bearerAuth": []}]
    paths = spec["paths"]
    assign = paths["/api/v1/tasks/{task_id}/assign"]["post"]
    assert assign["x-required-roles"] == ["supervisor", "admin"]
    assert "Roles: supervisor, admin." in assign["description"]
    assert {"401", "403", "404", "409"} <= set(assign["responses"])
    assert assign["responses"]["401"]["content"]["application/problem+json"]["schema"]
    assert paths["/api/v1/procedures"]["post"]["x-required-roles"] == ["designer", "admin"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                assert operation.get("x-required-roles"), f"{method.upper()} {path} documents no roles"


def test_a_token_without_any_known_role_may_do_nothing(client: Any, token: Any) -> None:
    response = client.get("/api/v1/procedures", headers=bearer(token("guest", ["offline_access"], ["team-a"])))
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "required_roles" in response.get_json()


def test_the_cli_prints_a_token_the_server_accepts(client: Any, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("JWT_SECRET", TEST_JWT_SECRET)
    assert cli(["token", "--user", "alice", "--role", "agent", "--group", "team-a", "--group", "team-b",
                "--ttl", "30m", "--name", "Alice"]) == 0
    printed = capsys.readouterr().out.strip()
    claims = jwt.decode(printed, TEST_JWT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"], claims["groups"], claims["name"]) == \
        ("alice", ["agent"], ["team-a", "team-b"], "Alice")
    assert claims["exp"] - claims["iat"] == 1800
    assert client.get("/api/v1/tasks", headers=bearer(printed)).status_code == 200
    assert cli(["token", "--user", "x", "--role", "root"]) == 2
    assert cli(["token", "--user", "x", "--ttl", "forever"]) == 2


def test_the_role_is_checked_before_the_request_body(client: Any, token: Any) -> None:
    agent = bearer(token("alice", ["agent"], ["team-a"]))
    assert client.post("/api/v1/procedures", data=b"x", content_type="text/plain", headers=agent).status_code == 403
    assert client.post("/api/v1/tasks/x/assign", json={"nobody": 1}, headers=agent).status_code == 403
    assert client.post("/api/v1/audit", headers=agent).status_code == 405


def test_the_actor_of_each_request_is_logged(client: Any, token: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="incident_engine.access"):
        client.get("/api/v1/tasks", headers=bearer(token("alice", ["agent"])))
    assert [getattr(r, "actor", None) for r in caplog.records if r.name == "incident_engine.access"] == ["alice"]
