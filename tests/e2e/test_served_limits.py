"""The served API (gunicorn, as `serve` runs it): its own refusals are problem+json, a large token fits."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from engine.config import Settings
from engine.identity.tokens import issue_token

from .test_cli_serve import _env, _serving


def _raw(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _problem(answer: tuple[int, dict[str, str], bytes], status: int) -> dict[str, Any]:
    code, headers, body = answer
    assert code == status, body[:300]
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status and problem["title"]
    return problem


def _token(instance: Path, groups: int) -> str:
    secret = (instance / "jwt-secret").read_text().strip()
    names = [f"contact-centre-team-{n:04d}" for n in range(groups)]
    return issue_token(Settings(jwt_secret=secret), user="big", roles=["admin"], groups=names)


def test_server_refusals_are_problem_json_and_a_token_with_300_groups_fits(tmp_path: Path) -> None:
    env = {**_env(tmp_path, tmp_path / "x.sqlite3"), "DEPLOY_BUNDLED": "0"}
    with _serving(tmp_path, env, "limits", ready_within=90) as api:  # a loaded machine starts slowly
        get = b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        _problem(_raw(api.base, get + b"X-Big: " + b"a" * 40_000 + b"\r\n\r\n"), 431)
        _problem(_raw(api.base, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 414)
        _problem(_raw(api.base, get + b"Bad\x01Name: x\r\n\r\n"), 400)
        token = _token(tmp_path, 300)
        assert len(token) > 8190  # over gunicorn's default header line limit
        code, _headers, body = _raw(api.base, get + f"Authorization: Bearer {token}\r\n\r\n".encode())
        assert code == 200, body[:300]


def _call(base: str, method: str, path: str, token: str, body: bytes | None = None,
          content_type: str = "application/json") -> tuple[int, Any, float]:
    import time
    import urllib.error
    import urllib.request

    request = urllib.request.Request(base + path, data=body, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null"), time.monotonic() - started
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null"), time.monotonic() - started


def test_healthz_answers_while_runaway_starts_are_contained(tmp_path: Path) -> None:
    import threading
    import time

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "containment" / "runaway_cycle.bpmn"
    env = {**_env(tmp_path, tmp_path / "x.sqlite3"), "DEPLOY_BUNDLED": "0", "TRANSITION_CPU_MS": "500"}
    with _serving(tmp_path, env, "runaway", ready_within=90) as api:
        secret = (tmp_path / "jwt-secret").read_text().strip()
        token = issue_token(Settings(jwt_secret=secret), user="dana", roles=["designer", "admin"], groups=["team"])
        status, body, _ = _call(api.base, "POST", "/api/v1/procedures", token, fixture.read_bytes(), "application/xml")
        assert status == 201, body
        starts: list[tuple[int, Any, float]] = []

        def runaway(n: int) -> None:
            payload = {"procedure": "runaway_cycle", "test": True, "reference": f"R{n}", "data": {"cycle": "R/PT0S"}}
            starts.append(_call(api.base, "POST", "/api/v1/incidents", token, json.dumps(payload).encode()))

        threads = [threading.Thread(target=runaway, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        health = []
        while any(t.is_alive() for t in threads):
            code, _body, took = _call(api.base, "GET", "/healthz", token)
            health.append((code, took))
            time.sleep(0.05)
        for thread in threads:
            thread.join()
        assert health and all(code == 200 for code, _took in health), health
        assert max(took for _code, took in health) < 5.0, health  # not the 30 s busy timeout, not minutes
        assert [s[0] for s in starts] == [201, 201, 201], starts
        for _status, incident, took in starts:
            assert incident["status"] == "error" and "budget" in incident["error"], incident
            assert took < 15, f"a runaway start took {took:.1f} s"
        status, body, _ = _call(api.base, "GET", "/api/v1/incidents?test=true&status=error", token)
        assert status == 200 and len(body["items"]) == 3
