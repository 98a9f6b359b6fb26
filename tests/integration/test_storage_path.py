"""The storage path of a transition: reads keep their prepared statements, a read never writes, the audit
rows of a step go in as one statement, and the Prometheus timings need no extra read (issue 15)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from engine import observe
from engine.db import task_rows
from engine.db.database import WriteInReadOnlyUnit, make_engine
from engine.db.uow import UnitOfWork
from engine.services import incidents
from engine.services.engine_app import IncidentEngine
from tests.support.incidents import MAJOR_LOG, complete, deploy_bundled


@pytest.fixture
def statements(engine: IncidentEngine) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the engine sends, with whether it was an executemany."""
    seen: list[tuple[str, bool]] = []

    def _note(_conn: Any, _cur: Any, statement: str, _params: Any, _ctx: Any, many: bool) -> None:
        seen.append((" ".join(statement.split()), many))

    event.listen(engine.db, "before_cursor_execute", _note)
    yield seen
    event.remove(engine.db, "before_cursor_execute", _note)


def _prepared(conn: Any) -> list[str]:
    return [r[0] for r in conn.execute(text("SELECT statement FROM pg_prepared_statements")).all()]


@pytest.mark.postgres
@pytest.mark.parametrize("prepared", [True, False])
def test_reads_keep_their_prepared_statements_unless_switched_off(pg_url: str, prepared: bool) -> None:
    db = make_engine(pg_url, prepared_statements=prepared, pool_size=1, max_overflow=0)
    try:
        for _ in range(4):
            with UnitOfWork(db, write=False) as uow:
                assert task_rows.get(uow.conn, "00000000-0000-0000-0000-000000000000") is None
        with UnitOfWork(db, write=False) as uow:
            kept = [s for s in _prepared(uow.conn) if "FROM tasks" in s]
        # Ending a read with ROLLBACK would have discarded them (psycopg sends DEALLOCATE ALL).
        assert (len(kept) == 1) is prepared, kept
    finally:
        db.dispose()


@pytest.mark.postgres
def test_a_read_only_unit_of_work_refuses_to_write_and_keeps_nothing(pg_url: str) -> None:
    db = make_engine(pg_url)
    try:
        with pytest.raises(WriteInReadOnlyUnit), UnitOfWork(db, write=False) as uow:
            uow.conn.execute(text("INSERT INTO idempotency_keys (scope, key, request_sha256, response, created_at) "
                                  "VALUES ('s', 'k', 'x', '{}', now())"))
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 0
        with UnitOfWork(db) as uow:  # a write unit of work on the same pooled connection still writes
            uow.conn.execute(text("INSERT INTO idempotency_keys (scope, key, request_sha256, response, created_at) "
                                  "VALUES ('s', 'k', 'x', '{}', now())"))
            uow.commit()
        with db.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM idempotency_keys")).scalar() == 1
    finally:
        db.dispose()


class _Timings:
    def __init__(self) -> None:
        self.batches: list[observe.Batch] = []

    def committed(self, batch: observe.Batch) -> None:
        self.batches.append(batch)


def test_a_step_inserts_its_audit_rows_at_once_and_times_tasks_without_a_read(
        engine: IncidentEngine, statements: list[tuple[str, bool]]) -> None:
    deploy_bundled(engine)
    view, _ = incidents.start(engine, procedure="major_incident",
                              data={"priority": "P2", "summary": "switch down", "caller_id": "C-1"})
    listener = _Timings()
    observe.listen(listener)
    try:
        statements.clear()
        view = complete(engine, view, "Task_LogIncident", MAJOR_LOG)
    finally:
        observe.forget(listener)
    # on PostgreSQL the insert rides in one statement with the chain head's move (issue 17):
    # WITH sealed AS (INSERT INTO audit ... SELECT ... FROM jsonb_to_recordset(:rows)) UPDATE audit_chain_heads ...
    audit_inserts = [i for i, (s, _many) in enumerate(statements) if "INSERT INTO audit (" in s]
    assert len(audit_inserts) == 1, [statements[i] for i in audit_inserts]
    if engine.db.dialect.name == "postgresql":  # one multi-row INSERT, not an executemany of one per row
        sent, many = statements[audit_inserts[0]]
        assert not many and "jsonb_to_recordset" in sent, sent  # every row in the one JSON parameter
    with engine.uow(write=False) as uow:
        written = uow.conn.execute(text("SELECT count(*) FROM audit WHERE incident_id = :i AND kind = 'task'"),
                                   {"i": view["id"]}).scalar()
    assert written and written >= 2  # the completion and the next task's creation, in that one statement
    [batch] = listener.batches
    [timing] = batch.tasks
    assert timing.element_id == "Task_LogIncident" and timing.wait_s >= 0
    # the timing came from the rows in memory: no read of the tasks table after the audit insert
    after = [s for s, _many in statements[audit_inserts[0]:]]
    assert not [s for s in after if s.startswith("SELECT") and "FROM tasks" in s], after


@pytest.mark.postgres
def test_the_workflow_state_is_compressed_with_lz4(pg_url: str) -> None:
    db = make_engine(pg_url)
    try:
        with db.connect() as conn:
            method = conn.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'incidents'::regclass "
                "AND attname = 'state'")).scalar()
        assert method == "l"
    finally:
        db.dispose()


def _free_elsewhere(lock: Any) -> bool:
    """Whether another thread could take `lock` now."""
    import threading

    result: list[bool] = []

    def probe() -> None:
        got = lock.acquire(blocking=False)
        if got:
            lock.release()
        result.append(got)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result[0]


def test_sqlite_writers_queue_in_the_process_and_always_let_go(tmp_path: Any) -> None:
    from engine.db.sqlite_writers import writer_lock

    db = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    try:
        lock = writer_lock(db)
        assert lock is not None and writer_lock(db) is lock
        with UnitOfWork(db, write=False):
            assert _free_elsewhere(lock)  # a read never queues
        with UnitOfWork(db) as uow:
            uow.conn.execute(text("CREATE TABLE t (x int)"))
            assert not _free_elsewhere(lock)  # held for the whole write unit of work
            uow.commit()
        assert _free_elsewhere(lock)
        with pytest.raises(ZeroDivisionError), UnitOfWork(db):
            _ = 1 / 0
        assert _free_elsewhere(lock)  # released when the unit of work fails, too
    finally:
        db.dispose()
    pg = make_engine("postgresql://postgres@127.0.0.1/postgres")
    assert writer_lock(pg) is None  # PostgreSQL's row locks do the queueing
    pg.dispose()
