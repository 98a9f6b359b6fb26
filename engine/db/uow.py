"""The unit of work: one database transaction per transition, committed whole or not at all."""
from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from engine import observe

from . import wakeup


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

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __enter__(self) -> UnitOfWork:
        self._conn = self.engine.connect()
        self._conn.info["write"] = self.write
        if not self.write and self.engine.dialect.name == "postgresql":
            self._conn.execution_options(isolation_level="AUTOCOMMIT")
        self._conn.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            observe.discard(conn)
            wakeup.discard(conn)
            conn.info.pop("write", None)
            conn.close()

    def commit(self) -> None:
        batch = observe.collect(self.conn)
        self.conn.commit()
        observe.publish(batch)
        wakeup.after_commit(self.conn)

    def rollback(self) -> None:
        self.conn.rollback()
