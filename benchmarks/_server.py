"""Starting and stopping what (b) measures: a throw-away PostgreSQL database and the `serve` process."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
import uuid

from _http_load import Http


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"ie_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_healthy(http_: Http, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} before /healthz answered")
        try:
            status, body = http_.request("GET", "/healthz")
            if status == 200:
                return
            last = f"{status} {body}"
        except (OSError, http.client.HTTPException) as err:
            last = repr(err)
            http_.close()
        time.sleep(0.25)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout:.0f} s (last: {last})")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of master and workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
