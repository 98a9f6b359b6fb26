"""The HTTP side of completions.py (b): keep-alive connections, the agent-desktop client loop, its counters."""
from __future__ import annotations

import collections
import http.client
import json
import os
import subprocess
import threading
import time
from typing import Any

import _inprocess as ip


class Http:
    """One keep-alive HTTP/1.1 connection (http.client), reopened after a transport error."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300].decode(errors="replace")
        return response.status, parsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completes: list[tuple[float, float, int, str]] = []  # (t0, t1, status, element)
        self.starts: list[tuple[float, float, int]] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.error_examples: list[str] = []
        self.incidents_completed = 0

    def error(self, kind: str, example: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_examples) < 5:
                self.error_examples.append(f"{kind}: {example}"[:400])


def client_loop(http_: Http, stats: Stats, stop: threading.Event, procedure: str) -> None:
    """Start an incident, complete its open tasks one by one until it ends; repeat until told to stop."""
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            # test incidents: the bundled versions are drafts on a fresh database, and a benchmark is not live work
            status, incident = http_.request("POST", "/api/v1/incidents",
                                             {"procedure": procedure, "data": ip.START_DATA, "test": True})
        except (OSError, http.client.HTTPException) as err:
            stats.error("start:transport", repr(err))
            time.sleep(0.05)
            continue
        t1 = time.perf_counter()
        with stats.lock:
            stats.starts.append((t0, t1, status))
        if status != 201:
            stats.error(f"start:{status}", str(incident))
            time.sleep(0.05)
            continue
        while not stop.is_set() and incident.get("status") == "running" and incident.get("open_tasks"):
            task = incident["open_tasks"][0]
            element = task["element_id"]
            path = f"/api/v1/tasks/{task['id']}/complete"
            t0 = time.perf_counter()
            try:
                status, body = http_.request("POST", path, {"data": ip.form_for(element)})
            except (OSError, http.client.HTTPException) as err:
                stats.error("complete:transport", repr(err))
                break
            t1 = time.perf_counter()
            with stats.lock:
                stats.completes.append((t0, t1, status, element))
            if status != 200 or not isinstance(body, dict):
                stats.error(f"complete:{status}", f"{element}: {body}")
                break
            incident = body
        if incident.get("status") == "completed":
            with stats.lock:
                stats.incidents_completed += 1
        elif incident.get("status") not in ("running", None):
            stats.error(f"incident:{incident.get('status')}", str(incident.get("error")))


def get_token(cli: str, env: dict[str, str]) -> tuple[str | None, str]:
    """BENCH_TOKEN, else `incident-engine token --user bench --role admin` when that command exists."""
    if os.environ.get("BENCH_TOKEN"):
        return os.environ["BENCH_TOKEN"], "BENCH_TOKEN"
    try:
        done = subprocess.run([cli, "token", "--user", "bench", "--role", "admin"], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"none (incident-engine token: {type(err).__name__})"
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip(), "incident-engine token"
    return None, f"none (incident-engine token exited {done.returncode})"
