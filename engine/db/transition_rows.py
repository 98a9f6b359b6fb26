"""The two reads that open a task's transition, built once: lock the incident through the task, then read
the task with its incident's open tasks in one statement (the row re-checked under the lock, and the rows
the step will sync)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from .tables import incidents, tasks

_INCIDENT_OF_TASK = select(tasks.c.incident_id).where(tasks.c.id == bindparam("b_task")).scalar_subquery()
_LOCK = select(incidents).where(incidents.c.id == _INCIDENT_OF_TASK)
_LOCK_PG = _LOCK.with_for_update(of=incidents)
_TASK_AND_OPEN = (select(tasks)
                  .where(tasks.c.incident_id == bindparam("b_incident"),
                         or_(tasks.c.state == "ready", tasks.c.id == bindparam("b_task")))
                  .order_by(tasks.c.created_at, tasks.c.id))


def lock_by_task(conn: Connection, task_id: str) -> dict[str, Any] | None:
    """The incident a task belongs to, with its workflow state, locked until the transaction ends (PostgreSQL
    row lock; SQLite's write transaction already excludes other writers); None for an unknown task."""
    query = _LOCK_PG if conn.dialect.name == "postgresql" else _LOCK
    row = conn.execute(query, {"b_task": task_id}).mappings().first()
    return dict(row) if row else None


def task_and_open(conn: Connection, incident_id: str, task_id: str) -> tuple[dict[str, Any] | None,
                                                                            dict[str, dict[str, Any]]]:
    """The task's row as of now, and the incident's ready tasks by id (oldest first)."""
    task = None
    ready: dict[str, dict[str, Any]] = {}
    for found in conn.execute(_TASK_AND_OPEN, {"b_incident": incident_id, "b_task": task_id}).mappings():
        row = dict(found)
        if row["id"] == task_id:
            task = row
        if row["state"] == "ready":
            ready[row["id"]] = row
    return task, ready
