"""Counting what a piece of work sends to PostgreSQL, from libpq's own protocol trace: statements and round
trips (for the statement-budget test and the benchmarks; never on in the service)."""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Wire:
    """What went over the wire while counting: statements (each Execute of the extended protocol or simple
    Query, BEGIN and COMMIT included) and round trips (each ReadyForQuery: the server's answer to a Sync or
    a simple Query, which the client waits for; a batch of pipelined statements ends in one Sync).
    Answers the server sends while a pipeline is still being written are not round trips."""

    statements: int = 0
    round_trips: int = 0
    sent: list[str] = field(default_factory=list)  # the statements' text, in order (Parse or Query)

    def add(self, trace: str) -> None:
        for line in trace.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            direction, message = parts[0], parts[2].strip()
            if direction == "B" and message.startswith("ReadyForQuery"):
                self.round_trips += 1
            if direction != "F":
                continue
            if message == "Execute" or message.startswith("Query"):
                self.statements += 1
            if message.startswith(("Query", "Parse")):
                text = parts[3] if len(parts) > 3 else ""
                self.sent.append(text.strip()[:160])


@contextmanager
def counting(engine: Engine) -> Iterator[Wire]:
    """Trace every connection `engine` hands out inside the block; the counts are filled in at its end."""
    from psycopg import pq

    wire = Wire()
    files: list[Any] = []

    def _checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        out = tempfile.TemporaryFile("w+")
        files.append(out)
        dbapi_conn.pgconn.trace(out.fileno())
        dbapi_conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

    def _checkin(dbapi_conn: Any, _record: Any) -> None:
        if dbapi_conn is not None and not dbapi_conn.closed:
            dbapi_conn.pgconn.untrace()

    event.listen(engine, "checkout", _checkout)
    event.listen(engine, "checkin", _checkin)
    try:
        yield wire
    finally:
        event.remove(engine, "checkout", _checkout)
        event.remove(engine, "checkin", _checkin)
        for out in files:
            out.flush()
            out.seek(0)
            wire.add(out.read())
            out.close()
