"""Migration 0002_identity offers the tasks that already exist to their candidates (SQLite and PostgreSQL)."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine import clock
from engine.db.database import make_engine
from engine.db.migrate import upgrade
from engine.db.tables import incidents, procedures, task_candidates, tasks
from tests.conftest import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    name = f"ie_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_existing_tasks_are_backfilled(empty_url: str) -> None:
    upgrade(empty_url, "0001")
    db = make_engine(empty_url)
    now = clock.now()
    columns = {c.name for c in tasks.c} - {"id", "candidate_groups", "candidate_users"}
    with db.begin() as conn:
        conn.execute(procedures.insert().values(id="p", key="k", version=1, status="draft", sha256="0" * 64,
                                                bpmn=b"<x/>", summary={}, created_at=now))
        conn.execute(incidents.insert().values(id="i", procedure_id="p", procedure_key="k", procedure_version=1,
                                               status="running", data={}, state="{}", row_version=1,
                                               created_at=now, updated_at=now))
        base = {"incident_id": "i", "procedure_key": "k", "element_id": "T", "state": "ready", "form": [],
                "created_at": now}
        assert set(base) <= columns
        conn.execute(tasks.insert(), [
            {**base, "id": "t1", "candidate_groups": ["team-a", "supervisors", "team-a"], "candidate_users": ["al"]},
            {**base, "id": "t2", "candidate_groups": [], "candidate_users": []},
        ])
    db.dispose()
    upgrade(empty_url)
    db = make_engine(empty_url)
    with db.connect() as conn:
        offers = set(conn.execute(select(task_candidates.c.task_id, task_candidates.c.kind, task_candidates.c.value)))
    db.dispose()
    assert offers == {("t1", "group", "team-a"), ("t1", "group", "supervisors"), ("t1", "user", "al")}
