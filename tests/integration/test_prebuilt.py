"""Prebuilt hot statements (engine.db.prebuilt) read and write on PostgreSQL exactly what SQLAlchemy would."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import exc, select

from engine.db import pipeline, prebuilt, task_rows, transition_rows
from engine.db.database import WriteInReadOnlyUnit
from engine.db.prebuilt import Prebuilt
from engine.db.tables import tasks
from engine.services import incidents
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import open_task
from tests.support.procedures import deploy_bundled

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(pg_url: str) -> Iterator[IncidentEngine]:
    eng = IncidentEngine(make_settings(pg_url))
    deploy_bundled(eng)
    yield eng
    eng.db.dispose()


def test_reads_give_what_sqlalchemy_gives(engine: IncidentEngine) -> None:
    view, _ = incidents.start(engine, procedure="major_incident", data={"priority": "P2", "summary": "telephony down", "caller_id": "C-1"})
    task_id = open_task(view, "Task_LogIncident")["id"]
    with engine.uow() as uow:
        conn = uow.conn
        locked = transition_rows.lock_by_task(conn, task_id)
        expected = dict(conn.execute(transition_rows._LOCK_PG.statement, {"b_task": task_id}).mappings().one())
        assert locked == expected and locked["created_at"].tzinfo is not None
        assert locked["data"] == expected["data"] and isinstance(locked["data"], dict)
        task, ready = transition_rows.task_and_open(conn, view["id"], task_id)
        rows = [dict(r) for r in conn.execute(transition_rows._TASK_AND_OPEN.statement,
                                              {"b_incident": view["id"], "b_task": task_id}).mappings()]
        assert task is not None and {k: v for k, v in rows[0].items() if not k.startswith("chain_")} == task
        assert list(ready) == [r["id"] for r in rows if r["state"] == "ready"]
        assert task_rows.get(conn, task_id) == dict(conn.execute(select(tasks).where(tasks.c.id == task_id))
                                                    .mappings().one())
        assert transition_rows.lock_by_task(conn, "no-such-task") is None


def test_writes_convert_like_sqlalchemy_and_are_checked_in_a_pipeline(engine: IncidentEngine) -> None:
    view, _ = incidents.start(engine, procedure="major_incident", data={"priority": "P2", "summary": "telephony down", "caller_id": "C-1"})
    task_id = open_task(view, "Task_LogIncident")["id"]
    naive = datetime(2026, 12, 1, 19, 30, 0, 123456)  # a naive timestamp is UTC, as UTCDateTime binds it
    with engine.uow() as uow:
        conn = uow.conn
        with pipeline.pipelined(conn):
            task_rows.end(conn, task_id, "completed", naive, "ann", claimed=naive, missed=lambda: RuntimeError("x"))
            stored = task_rows.get(conn, task_id)  # a read inside the pipeline sees the queued write
        assert stored is not None and stored["state"] == "completed" and stored["assignee"] == "ann"
        assert stored["ended_at"] == naive.replace(tzinfo=UTC) and stored["claimed_at"].tzinfo is not None
        with pytest.raises(LookupError), pipeline.pipelined(conn):  # not ready any more: the check fails at the end
            task_rows.end(conn, task_id, "completed", naive, "bob", claimed=naive, missed=lambda: LookupError("lost"))
        uow.rollback()
    with engine.uow() as uow:
        at = datetime(2026, 12, 1, 21, 0, tzinfo=timezone(timedelta(hours=2)))
        task_rows.end(uow.conn, task_id, "cancelled", at, None)  # outside a pipeline: at once
        assert task_rows.get(uow.conn, task_id)["ended_at"] == at.astimezone(UTC)  # type: ignore[index]
        uow.rollback()


def test_errors_are_sqlalchemys_and_reads_refuse_writes(engine: IncidentEngine) -> None:
    insert = Prebuilt(tasks.insert())
    with engine.uow() as uow, pytest.raises(exc.IntegrityError):
        pipeline.write(uow.conn, insert, {"id": "t-1", "incident_id": "no-such-incident"})
    with engine.uow(write=False) as uow, pytest.raises(WriteInReadOnlyUnit):
        pipeline.write(uow.conn, task_rows._END, {"b_id": "t", "state": "completed", "ended_at": None,
                                                  "ended_by": None})
    with engine.uow() as uow:  # the connection is usable afterwards
        assert prebuilt.mappings(uow.conn, task_rows._GET, {"b_id": "nothing"}) == []


def test_an_expanding_in_goes_through_sqlalchemy(engine: IncidentEngine) -> None:
    expanding = Prebuilt(select(tasks.c.id).where(tasks.c.state.in_(["ready", "completed"])))
    with engine.uow() as uow:
        assert expanding.compiled(uow.conn, frozenset()) is None
        assert prebuilt.mappings(uow.conn, expanding, {}) == []


def test_a_column_default_computed_per_execution_goes_through_sqlalchemy(engine: IncidentEngine) -> None:
    from engine.db import timer_rows

    with engine.uow() as uow:
        assert timer_rows._INSERT.compiled(uow.conn, frozenset({"id", "incident_id"})) is None  # is_sla's default
        assert timer_rows._INSERT.compiled(uow.conn, frozenset({"id", "incident_id", "is_sla"})) is not None
