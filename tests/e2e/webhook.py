"""A webhook receiver on 127.0.0.1 and a tiny outbox sender for the end-to-end test.

Delivery is the outbox workers' job (issue #5); until they are merged, the test delivers the briefing
rows itself with `deliver_pending`, the way a worker would: POST the payload as JSON per topic.
"""
from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from engine.db.tables import outbox
from engine.services.engine_app import IncidentEngine


@contextmanager
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(base URL, received requests) of an HTTP server on a free port of 127.0.0.1."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def deliver_pending(engine: IncidentEngine, base_url: str, topic_prefix: str = "briefing.") -> int:
    """POST every pending outbox row of the topic prefix to <base_url>/<topic>; mark them delivered."""
    with engine.uow() as uow:
        rows = [dict(r) for r in uow.conn.execute(select(outbox).where(
            outbox.c.status == "pending", outbox.c.topic.startswith(topic_prefix))).mappings()]
        for row in rows:
            request = urllib.request.Request(f"{base_url}/{row['topic']}", data=json.dumps(row["payload"]).encode(),
                                             headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert answer.status < 300
            uow.conn.execute(outbox.update().where(outbox.c.id == row["id"]).values(
                status="delivered", delivered_at=datetime.now(UTC), attempts=row["attempts"] + 1))
        uow.commit()
    return len(rows)
