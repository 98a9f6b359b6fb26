"""A webhook receiver on 127.0.0.1 for tests: records requests, checks signatures, deduplicates by key."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engine.services.delivery import SIGNATURE_HEADER, signature


@dataclass
class Received:
    key: str | None
    topic: str | None
    attempt: str | None
    body: dict[str, Any]
    signature_ok: bool | None


@dataclass
class Receiver:
    """`statuses` are answered in turn (then 200); `block_first` makes the first request hang until
    `release` is set, after recording its effect, as a slow receiver that a killed worker never hears."""

    secret: str | None = None
    statuses: list[int] = field(default_factory=list)
    block_first: bool = False
    requests: list[Received] = field(default_factory=list)
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        sent = handler.headers.get(SIGNATURE_HEADER)
        ok = None if self.secret is None else sent == signature(self.secret, raw)
        key = handler.headers.get("Idempotency-Key")
        with self.lock:
            number = len(self.requests)
            self.requests.append(Received(key, handler.headers.get("X-Incident-Engine-Topic"),
                                          handler.headers.get("X-Incident-Engine-Attempt"), json.loads(raw), ok))
            status = self.statuses[number] if number < len(self.statuses) else 200
            if status < 300 and ok is not False and key and key not in self.effects:
                self.effects[key] = json.loads(raw)  # the receiver's one side effect per key
        if self.block_first and number == 0:
            self.arrived.set()
            self.release.wait(30)
        self.arrived.set()
        return status, b'{"ok": true}' if status < 300 else b'{"error": "try again"}'


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            status, body = receiver.handle(self)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the sender is gone (killed mid-request)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
