"""Creating the SQLAlchemy engine for PostgreSQL (psycopg 3) or the embedded SQLite file."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from engine import safe_input


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the right settings for the dialect: pooled PostgreSQL, or SQLite with WAL."""
    parsed = make_url(url)
    kwargs.setdefault("json_serializer", safe_input.dumps)  # NaN/Infinity is never stored (PG refuses it)
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
    return create_engine(url, **kwargs)


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
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write", True) else "BEGIN")


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
