"""The tasks table: open human tasks copied out of the workflow so queues list without loading state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from .tables import task_candidates, tasks
from .visibility import Visibility, task_visible


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert task rows and offer each to its candidate groups and users (the queue's index)."""
    if not rows:
        return
    conn.execute(tasks.insert(), rows)
    offers = [{"task_id": row["id"], "kind": kind, "value": value}
              for row in rows
              for kind, values in (("group", row["candidate_groups"]), ("user", row["candidate_users"]))
              for value in dict.fromkeys(values)]
    if offers:
        conn.execute(task_candidates.insert(), offers)


def set_assignee(conn: Connection, task_id: str, assignee: str | None, at: datetime, *,
                 previous: str | None) -> bool:
    """Compare-and-set a ready task's assignee: only if it is still `previous` (None: held by nobody).

    One conditional UPDATE, so of two concurrent claims only one can win: PostgreSQL makes the second
    wait on the row and re-check the condition after the first commits; SQLite serializes the writers.
    """
    held = tasks.c.assignee.is_(None) if previous is None else tasks.c.assignee == previous
    result = conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state == "ready", held)
                          .values(assignee=assignee, claimed_at=at if assignee else None))
    return result.rowcount == 1


def get(conn: Connection, task_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).mappings().first()
    return dict(row) if row else None


def end(conn: Connection, task_id: str, state: str, at: datetime, actor: str | None) -> None:
    conn.execute(tasks.update().where(tasks.c.id == task_id, tasks.c.state == "ready")
                 .values(state=state, ended_at=at, ended_by=actor))


def end_all_open(conn: Connection, incident_id: str, state: str, at: datetime, actor: str | None) -> None:
    conn.execute(tasks.update().where(tasks.c.incident_id == incident_id, tasks.c.state == "ready")
                 .values(state=state, ended_at=at, ended_by=actor))


def open_for(conn: Connection, incident_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return found
    query = (select(tasks).where(tasks.c.incident_id.in_(incident_ids), tasks.c.state == "ready")
             .order_by(tasks.c.created_at, tasks.c.id))
    for row in conn.execute(query).mappings():
        found[row["incident_id"]].append(dict(row))
    return found


def page(conn: Connection, *, state: str | None, lane: str | None, incident: str | None,
         limit: int, after: tuple[datetime, str] | None, visible_to: Visibility | None = None,
         assignee: str | None = None, unassigned: bool = False, test: bool | None = False) -> list[dict[str, Any]]:
    """A page of tasks oldest first: of live incidents, of test ones (`test=True`) or both (`test=None`)."""
    query = select(tasks)
    if test is not None:
        query = query.where(tasks.c.test == test)
    if visible_to is not None:
        query = query.where(task_visible(visible_to))
    if assignee:
        query = query.where(tasks.c.assignee == assignee)
    if unassigned:
        query = query.where(tasks.c.assignee.is_(None))
    if state:
        query = query.where(tasks.c.state == state)
    if lane:
        query = query.where(tasks.c.lane == lane)
    if incident:
        query = query.where(tasks.c.incident_id == incident)
    if after is not None:
        created_at, last_id = after
        query = query.where(or_(tasks.c.created_at > created_at,
                                and_(tasks.c.created_at == created_at, tasks.c.id > last_id)))
    query = query.order_by(tasks.c.created_at, tasks.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]
