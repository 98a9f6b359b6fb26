"""Creating the SQLAlchemy engine for PostgreSQL (psycopg 3) or the embedded SQLite file."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the right settings for the dialect: pooled PostgreSQL, or SQLite with WAL."""
    parsed = make_url(url)
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
