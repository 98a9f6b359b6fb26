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
    env = _env(tmp_path, tmp_path / "x.sqlite3")
    with _serving(tmp_path, env, "limits") as api:
        get = b"GET /api/v1/incidents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        _problem(_raw(api.base, get + b"X-Big: " + b"a" * 40_000 + b"\r\n\r\n"), 431)
        _problem(_raw(api.base, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 414)
        _problem(_raw(api.base, get + b"Bad\x01Name: x\r\n\r\n"), 400)
        token = _token(tmp_path, 300)
        assert len(token) > 8190  # over gunicorn's default header line limit
        code, _headers, body = _raw(api.base, get + f"Authorization: Bearer {token}\r\n\r\n".encode())
        assert code == 200, body[:300]
