"""Creating the SQLAlchemy engine for PostgreSQL (psycopg 3) or the embedded SQLite file."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from engine import safe_input

from . import optimistic, pipeline
from .audit_rows import known_heads

# Statements a read-only unit of work may send (it runs in autocommit on PostgreSQL, see engine.db.uow).
_READS = ("SELECT", "WITH", "SHOW", "VALUES")


_LONG_NUMBER = re.compile(rb"\d{19}")  # orjson reads an integer beyond 64 bits as a float
_LONG_NUMBER_TEXT = re.compile(r"\d{19}")


def stored_json(data: str | bytes | bytearray | memoryview) -> Any:
    """JSON columns as read back (jsonb through psycopg, JSON text on SQLite): orjson, several times faster
    than the standard library on the task rows of a listing. A document with a run of 19 or more digits
    (an integer that may not fit 64 bits, which jsonb's numeric can hold) and anything orjson refuses are
    read by the standard library, so the values are the same."""
    long_number = (_LONG_NUMBER_TEXT if isinstance(data, str) else _LONG_NUMBER).search(data)  # type: ignore[arg-type]
    if long_number is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(bytes(data) if isinstance(data, memoryview | bytearray) else data)


class WriteInReadOnlyUnit(RuntimeError):
    """A programming error: something tried to write inside `UnitOfWork(write=False)`."""


def make_engine(url: str, *, prepared_statements: bool = True, **kwargs: Any) -> Engine:
    """An engine with the right settings for the dialect: pooled PostgreSQL, or SQLite with WAL.

    `prepared_statements=False` (PostgreSQL) turns psycopg's automatic server-side prepared statements off,
    for a pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
    """
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", safe_input.dumps)  # NaN/Infinity is never stored (PG refuses it)
    kwargs.setdefault("json_deserializer", stored_json)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _sqlite_transactions(engine)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_recycle", 1800)  # not pre_ping: it costs a round trip per checkout
    connect_args = dict(kwargs.pop("connect_args", {}))
    # psycopg prepares a statement on its 5th execution by default; the hot statements of a transition run
    # once or twice per request, so prepare them from the 2nd.
    connect_args.setdefault("prepare_threshold", 2 if prepared_statements else None)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    # An executemany INSERT (audit rows, task rows, offers) becomes one multi-row INSERT, not one Execute a row.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    _refuse_writes_in_reads(engine)
    pipeline.install(engine)
    return engine


def _refuse_writes_in_reads(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _check(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if conn.info.get("write") is False and not statement.lstrip()[:6].upper().startswith(_READS):
            raise WriteInReadOnlyUnit(f"a read-only unit of work tried to write: {statement[:80]!r}")


def _sqlite_transactions(engine: Engine) -> None:
    """Let us choose BEGIN IMMEDIATE for writes, so two writers queue instead of failing mid-way."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        deferred = not conn.info.get("write", True) or optimistic.STATE in conn.info
        conn.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _first_write(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        attempt = conn.info.get(optimistic.STATE)  # a deferred write unit of work (engine.db.optimistic)
        if attempt is not None and not attempt.upgraded and not statement.lstrip()[:6].upper().startswith(
                ("SELECT", "BEGIN")):
            optimistic.upgrade(cursor.connection, attempt, dict(known_heads(conn)))


def writable(engine: Engine, wait_seconds: float = 0.5) -> str | None:
    """None when a write transaction could start now; otherwise why not (a replica, a held SQLite lock).

    Nothing is written: SQLite tries BEGIN IMMEDIATE with a short busy timeout and rolls back; PostgreSQL
    asks whether the server is a read-only standby or the session is read-only."""
    try:
        if engine.dialect.name == "sqlite":
            raw = engine.raw_connection()  # no SQLAlchemy begin listener: the probe takes the lock itself
            try:
                cur = raw.cursor()
                cur.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
                try:
                    cur.execute("BEGIN IMMEDIATE")
                    cur.execute("ROLLBACK")
                finally:
                    cur.execute("PRAGMA busy_timeout=30000")
                    cur.close()
            finally:
                raw.close()
            return None
        with engine.connect() as conn:
            conn.execute(text(f"SET LOCAL statement_timeout = {int(wait_seconds * 1000)}"))
            if conn.execute(text("SELECT pg_is_in_recovery()")).scalar():
                return "the server is a read-only standby"
            if conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                return "transactions are read-only"
            return None
    except Exception as err:  # noqa: BLE001 - any failure means "not writable", named
        return f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"


def act_as(engine: Engine, role: str) -> None:
    """Every PostgreSQL connection of `engine` acts as `role` (SET ROLE), with that role's rights only: the
    service's own role may insert audit rows but not change or delete them."""
    if engine.dialect.name != "postgresql":
        return
    if not role.replace("_", "").isalnum():
        raise ValueError(f"DATABASE_ROLE must be a plain identifier, not {role!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET ROLE "{role}"')
        cur.close()
        dbapi_conn.commit()  # a SET inside a transaction that is rolled back would be undone
