"""Writes sent without waiting: a transition's writes go to PostgreSQL in one round trip (psycopg pipeline mode).

Inside `pipelined(conn)` on PostgreSQL, a statement sent through `write()` is queued on the wire and not
waited for; every other statement (a read, anything whose result is used) waits as usual, which first
brings back everything queued before it, in order. A `write()` that must touch an expected number of rows
(the row-version guard, a compare-and-set) is checked when the block ends: the block's end waits for the
queued writes once, then raises the caller's exception for the first write that missed, so the unit of
work rolls back. Outside the block, and on SQLite, `write()` executes at once and checks at once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, event

from . import prebuilt
from .prebuilt import Prebuilt

_KEY = "pipeline"
_DEFER = {"ie_deferred": True}

Missed = Callable[[], BaseException]


@dataclass
class _Batch:
    pipeline: Any
    cursor: Any = None  # the cursor of the last deferred statement (SQLAlchemy closes it; psycopg still fills it)
    checks: list[tuple[Any, int, Missed]] = field(default_factory=list)
    sent: int = 0


def install(engine: Engine) -> None:
    """Let statements not sent through `write()` wait for their results as usual inside a pipeline."""

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        batch: _Batch | None = conn.info.get(_KEY)
        if batch is None:
            return
        if context is not None and context.execution_options.get("ie_deferred"):
            batch.cursor = cursor
            batch.sent += 1
        else:
            batch.pipeline.sync()  # this statement's result (and every queued one before it) comes back now


@contextmanager
def pipelined(conn: Connection) -> Iterator[None]:
    """Queue this block's `write()`s and check them once at its end (PostgreSQL); elsewhere a no-op."""
    if conn.dialect.name != "postgresql" or _KEY in conn.info:
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    batch: _Batch | None = None
    with raw.pipeline() as pipe:
        batch = conn.info[_KEY] = _Batch(pipe)
        try:
            yield
        finally:
            conn.info.pop(_KEY, None)
    # leaving the pipeline waited for every queued statement: their row counts are known now
    for cursor, expected, missed in batch.checks:
        if cursor.rowcount != expected:
            raise missed()


def write(conn: Connection, statement: Any, params: Any = None, *, expect: int | None = None,
          missed: Missed | None = None) -> None:
    """Execute a write whose result nobody reads now; with `expect`, `missed()` is raised unless it
    touched exactly that many rows (at once, or when the enclosing `pipelined` block ends)."""
    batch: _Batch | None = conn.info.get(_KEY)
    if isinstance(statement, Prebuilt):
        cursor = prebuilt.send(conn, statement, params) if isinstance(params, dict) and prebuilt.fast(conn) else None
        if cursor is not None:  # straight through psycopg (engine.db.prebuilt)
            if batch is None:
                rowcount = cursor.rowcount
                cursor.close()
                if expect is not None and rowcount != expect:
                    raise (missed or _default_missed)()
            else:
                batch.sent += 1
                if expect is not None:
                    batch.checks.append((cursor, expect, missed or _default_missed))
            return
        statement = statement.statement
    if batch is None:
        result = conn.execute(statement, params)
        if expect is not None and result.rowcount != expect:
            raise (missed or _default_missed)()
        return
    conn.execute(statement, params, execution_options=_DEFER)
    if expect is not None:
        batch.checks.append((batch.cursor, expect, missed or _default_missed))


def read(conn: Connection, statement: Prebuilt, params: dict[str, Any]) -> list[dict[str, Any]]:
    """A prebuilt SELECT's rows as dicts; inside a pipeline, everything queued before it comes back first."""
    batch: _Batch | None = conn.info.get(_KEY)
    return prebuilt.mappings(conn, statement, params, sync=batch.pipeline.sync if batch is not None else None)


def active(conn: Connection) -> bool:
    return _KEY in conn.info


def _default_missed() -> BaseException:
    return RuntimeError("a guarded write touched an unexpected number of rows")
