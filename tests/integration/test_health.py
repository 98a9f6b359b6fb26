"""/healthz never waits behind a writer; /readyz says whether a write could start now."""
from __future__ import annotations

import time

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url


def test_healthz_answers_while_a_sqlite_writer_holds_the_lock(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.get("/readyz").get_json()["writable"] is True
    if make_url(database_url).get_backend_name() != "sqlite":
        assert client.get("/healthz").status_code == 200
        return
    holder = create_engine(database_url).raw_connection()
    try:
        holder.isolation_level = None
        holder.cursor().execute("BEGIN IMMEDIATE")  # a writer in the middle of a long transaction
        started = time.monotonic()
        response = client.get("/healthz")
        waited = time.monotonic() - started
        assert response.status_code == 200, response.get_data(as_text=True)
        assert waited < 5, f"/healthz waited {waited:.1f} s behind the writer (busy timeout is 30 s)"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Content-Type"] == "application/problem+json"
        assert "locked" in ready.get_json()["detail"]
    finally:
        holder.cursor().execute("ROLLBACK")
        holder.close()
    assert client.get("/readyz").status_code == 200
