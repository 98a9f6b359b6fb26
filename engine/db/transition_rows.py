"""The two reads that open a task's transition, built once: lock the incident through the task, then read
the task with its incident's open tasks and its audit chain head in one statement (the row re-checked under
the lock, and the rows the step will sync)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from . import prebuilt
from .audit_rows import known_heads
from .prebuilt import Prebuilt
from .tables import audit_chain_heads, incidents, tasks

_INCIDENT_OF_TASK = select(tasks.c.incident_id).where(tasks.c.id == bindparam("b_task")).scalar_subquery()
_LOCK = Prebuilt(select(incidents).where(incidents.c.id == _INCIDENT_OF_TASK))
_LOCK_PG = Prebuilt(_LOCK.statement.with_for_update(of=incidents))
# The chain head comes with the second read: a statement after the lock sees what the last holder of the
# lock committed (the lock's own statement would re-read only the locked row). It is read, not locked:
# the append's guarded UPDATE takes that lock last, in the same order as every other appender.
_TASK_AND_OPEN = Prebuilt(select(tasks, audit_chain_heads.c.seq.label("chain_seq"),
                         audit_chain_heads.c.hash.label("chain_hash"))
                  .select_from(tasks.outerjoin(audit_chain_heads,
                                               audit_chain_heads.c.incident_id == tasks.c.incident_id))
                  .where(tasks.c.incident_id == bindparam("b_incident"),
                         or_(tasks.c.state == "ready", tasks.c.id == bindparam("b_task")))
                  .order_by(tasks.c.created_at, tasks.c.id))


def lock_by_task(conn: Connection, task_id: str) -> dict[str, Any] | None:
    """The incident a task belongs to, with its workflow state, locked until the transaction ends (PostgreSQL
    row lock; SQLite's write transaction already excludes other writers); None for an unknown task. Its
    audit chain head as of now is kept for this transaction's append (engine.db.audit_rows.HEADS)."""
    query = _LOCK_PG if conn.dialect.name == "postgresql" else _LOCK
    found = prebuilt.mappings(conn, query, {"b_task": task_id})
    return found[0] if found else None


def task_and_open(conn: Connection, incident_id: str, task_id: str) -> tuple[dict[str, Any] | None,
                                                                            dict[str, dict[str, Any]]]:
    """The task's row as of now, and the incident's ready tasks by id (oldest first); the incident's audit
    chain head as of now is kept for this transaction's append (engine.db.audit_rows.known_heads)."""
    task = None
    ready: dict[str, dict[str, Any]] = {}
    for row in prebuilt.mappings(conn, _TASK_AND_OPEN, {"b_incident": incident_id, "b_task": task_id}):
        seq, hash_ = row.pop("chain_seq"), row.pop("chain_hash")
        if seq is not None:  # audit_rows.append seals onto it without reading it again
            known_heads(conn)[incident_id] = (int(seq), str(hash_))
        if row["id"] == task_id:
            task = row
        if row["state"] == "ready":
            ready[row["id"]] = row
    return task, ready
