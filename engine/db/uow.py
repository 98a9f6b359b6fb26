"""The unit of work: one database transaction per transition, committed whole or not at all."""
from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine

from engine import observe

from . import optimistic, wakeup
from .audit_rows import HEADS
from .sqlite_writers import WAIT_SECONDS, writer_lock


class UnitOfWork:
    """Opens a connection and a transaction; nothing is kept unless `commit()` is called.

    A read-only unit of work (`write=False`) on PostgreSQL runs in autocommit: no BEGIN, and above all
    no ROLLBACK at the end, because psycopg 3 forgets its prepared statements on every ROLLBACK (and sends
    DEALLOCATE ALL), so the hot reads would never stay prepared. Under READ COMMITTED each statement has
    its own snapshot anyway, so nothing about what a read sees changes; a write attempted in one is refused
    (engine.db.database), since autocommit would otherwise keep it.
    """

    def __init__(self, engine: Engine, *, write: bool = True) -> None:
        self.engine = engine
        self.write = write
        self._conn: Connection | None = None
        self._queued: Any = None
        self._attempt: optimistic.Attempt | None = None

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        lock = writer_lock(self.engine) if self.write else None
        attempt = optimistic.take() if lock is not None else None
        if attempt is not None:  # SQLite, deferred: the lock is taken at the first write (engine.db.optimistic)
            attempt.lock, self._attempt = lock, attempt
        elif lock is not None and lock.acquire(timeout=WAIT_SECONDS):
            self._queued = lock
        try:
            self._conn = self.engine.connect()
            self._conn.info["write"] = self.write
            if attempt is not None:
                self._conn.info[optimistic.STATE] = attempt
            if not self.write and self.engine.dialect.name == "postgresql":
                self._conn.execution_options(isolation_level="AUTOCOMMIT")
            self._conn.begin()
        except BaseException:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.info.pop("write", None)
                conn.close()
            self._release()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        attempt = self._attempt
        if attempt is not None and exc is not None and (attempt.upgraded or isinstance(exc, optimistic.StaleRead)):
            attempt.failed = True  # its reads may have been older than its writes: the use case runs again
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            observe.discard(conn)
            wakeup.discard(conn)
            conn.info.pop("write", None)
            conn.info.pop(HEADS, None)
            conn.info.pop(optimistic.STATE, None)
            conn.close()
            self._release()

    def _release(self) -> None:
        queued, self._queued = self._queued, None
        attempt, self._attempt = self._attempt, None
        if attempt is not None and attempt.upgraded and attempt.lock is not None:
            queued = attempt.lock
        if queued is not None:
            queued.release()

    def commit(self) -> None:
        batch = observe.collect(self.conn)
        self.conn.commit()
        observe.publish(batch)
        wakeup.after_commit(self.conn)

    def rollback(self) -> None:
        self.conn.rollback()
