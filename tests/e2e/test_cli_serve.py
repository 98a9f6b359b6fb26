"""The `incident-engine` command as an operator runs it: migrate a fresh database, serve, restart."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

BUNDLED_KEYS = {"major_incident", "data_breach", "customer_complaint", "data_subject_request"}


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "incident-engine"
    if script.exists():
        return [str(script)]
    found = shutil.which("incident-engine")
    return [found] if found else [sys.executable, "-m", "api.cli"]


def _env(tmp_path: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BUNDLED_BPMN_DIR", "DEPLOY_BUNDLED")}
    env.update(DATABASE_URL=f"sqlite:///{db}", INCIDENT_ENGINE_INSTANCE=str(tmp_path), LOG_LEVEL="WARNING",
               BOOTSTRAP_BUNDLED="0")  # the first-start bootstrap has its own test (test_bootstrap.py)
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body or b"null")
        except ValueError:
            return err.code, body.decode(errors="replace")


class Api:
    """GETs against the served API; on a 401 it asks `incident-engine token` for an admin token once."""

    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.base, self.env, self.token = base, env, None

    def _fetch_token(self) -> str:
        done = subprocess.run([*_cli(), "token", "--user", "t", "--role", "admin"], env=self.env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"got 401 and `incident-engine token` failed: {done.stderr[-2000:]}"
        text = done.stdout.strip()
        try:
            parsed = json.loads(text)
            if isinstance(parsed, dict):
                return str(parsed.get("token") or parsed.get("access_token"))
        except ValueError:
            pass
        return text.splitlines()[-1].strip()

    def get(self, path: str) -> tuple[int, Any]:
        status, body = _get(self.base + path, self.token)
        if status == 401 and self.token is None:
            self.token = self._fetch_token()
            status, body = _get(self.base + path, self.token)
        return status, body


@contextmanager
def _serving(tmp_path: Path, env: dict[str, str], name: str, ready_within: float = 20.0) -> Iterator[Api]:
    port = _free_port()
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen([*_cli(), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within
        while True:
            assert proc.poll() is None, f"serve exited with {proc.returncode}:\n{_tail(tmp_path / f'{name}.log')}"
            try:
                status, body = _get(base + "/healthz")
                if status == 200:
                    assert body["status"] == "ok"
                    break
                if status == 401:  # should auth ever cover /healthz, the server is up all the same
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            assert time.monotonic() < deadline, \
                f"/healthz not up within {ready_within:g} s:\n{_tail(tmp_path / f'{name}.log')}"
            time.sleep(0.25)
        yield Api(base, env)
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server we started (gunicorn master and its workers: the process group we created)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_migrate_creates_the_schema_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "engine.sqlite3"
    env = _env(tmp_path, db)
    for _ in range(2):  # the second run is a no-op
        done = subprocess.run([*_cli(), "migrate"], env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    assert db.exists()
    assert {"procedures", "incidents", "tasks", "audit"} <= _tables(db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM procedures").fetchone()[0] == 0  # migrate deploys nothing


def test_serve_deploys_the_bundled_procedures_once(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    env = _env(tmp_path, db)
    with _serving(tmp_path, env, "first") as api:
        status, body = api.get("/api/v1/procedures")
        assert status == 200, body
        listed = {p["key"]: p["version"] for p in body["items"]}
        assert listed == dict.fromkeys(BUNDLED_KEYS, 1)
        status, versions = api.get("/api/v1/procedures/major_incident")
        assert status == 200 and [v["version"] for v in versions["items"]] == [1]
        first_sha = {p["key"]: p["sha256"] for p in body["items"]}
        status, missing = api.get("/api/v1/incidents/00000000-0000-4000-8000-000000000000")
        assert status == 404 and missing["status"] == 404

    with _serving(tmp_path, env, "second") as api:
        status, body = api.get("/api/v1/procedures")
        assert status == 200, body
        assert {p["key"]: p["version"] for p in body["items"]} == dict.fromkeys(BUNDLED_KEYS, 1)
        assert {p["key"]: p["sha256"] for p in body["items"]} == first_sha
        for key in BUNDLED_KEYS:
            status, versions = api.get(f"/api/v1/procedures/{key}")
            assert status == 200 and [v["version"] for v in versions["items"]] == [1], (key, versions)


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"]])
def test_the_command_documents_itself(args: list[str]) -> None:
    done = subprocess.run([*_cli(), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "usage: incident-engine" in done.stdout
