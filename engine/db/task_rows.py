"""The tasks table: open human tasks copied out of the workflow so queues list without loading state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, text

from . import pipeline, task_order
from .prebuilt import Prebuilt
from .tables import task_candidates, tasks
from .visibility import Visibility, task_visible


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert task rows and offer each to its candidate groups and users (the queue's index)."""
    if not rows:
        return
    # one row (the usual case) is a plain INSERT: an executemany goes through SQLAlchemy's multi-row
    # rewriting, which cost more than the statement itself in a profile of the server
    pipeline.write(conn, _INSERT, rows[0] if len(rows) == 1 else rows)
    offers = [(row["id"], kind, value)
              for row in rows
              for kind, values in (("group", row["candidate_groups"]), ("user", row["candidate_users"]))
              for value in dict.fromkeys(values)]
    if not offers:
        return
    if conn.dialect.name == "postgresql":  # any number of offers in one fixed (so prepared) statement
        ids, kinds, values = (list(column) for column in zip(*offers, strict=True))
        pipeline.write(conn, _OFFER_PG, {"ids": ids, "kinds": kinds, "values": values})
    else:
        pipeline.write(conn, task_candidates.insert(),
                       [{"task_id": task_id, "kind": kind, "value": value} for task_id, kind, value in offers])


_INSERT = Prebuilt(tasks.insert())
_OFFER_PG = text("INSERT INTO task_candidates (task_id, kind, value) "
                 "SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:kinds AS text[]), CAST(:values AS text[]))")


# Hot statements are built once (SQLAlchemy then only looks up their compiled form).
_READY = (tasks.c.id == bindparam("b_id")) & (tasks.c.state == "ready")
_SET_ASSIGNEE_FREE = tasks.update().where(_READY, tasks.c.assignee.is_(None))
_TAKE = Prebuilt(_SET_ASSIGNEE_FREE)
_SET_ASSIGNEE_HELD = tasks.update().where(_READY, tasks.c.assignee == bindparam("b_previous"))
_GET = Prebuilt(select(tasks).where(tasks.c.id == bindparam("b_id")))
_END = Prebuilt(tasks.update().where(_READY))
_END_CLAIMED = Prebuilt(tasks.update().where(_READY, tasks.c.assignee.is_(None)))


def set_assignee(conn: Connection, task_id: str, assignee: str | None, at: datetime, *,
                 previous: str | None) -> bool:
    """Compare-and-set a ready task's assignee: only if it is still `previous` (None: held by nobody).

    One conditional UPDATE, so of two concurrent claims only one can win: PostgreSQL makes the second
    wait on the row and re-check the condition after the first commits; SQLite serializes the writers.
    """
    values = {"b_id": task_id, "assignee": assignee, "claimed_at": at if assignee else None}
    if previous is None:
        result = conn.execute(_SET_ASSIGNEE_FREE, values)
    else:
        result = conn.execute(_SET_ASSIGNEE_HELD, {**values, "b_previous": previous})
    return result.rowcount == 1


def take(conn: Connection, task_id: str, assignee: str | None, at: datetime, *, missed: pipeline.Missed) -> None:
    """`set_assignee` of an unassigned task as a (possibly pipelined) write: `missed()` when it lost."""
    pipeline.write(conn, _TAKE, {"b_id": task_id, "assignee": assignee, "claimed_at": at},
                   expect=1, missed=missed)


def get(conn: Connection, task_id: str) -> dict[str, Any] | None:
    found = pipeline.read(conn, _GET, {"b_id": task_id})
    return found[0] if found else None


def end(conn: Connection, task_id: str, state: str, at: datetime, actor: str | None, *,
        claimed: datetime | None = None, missed: pipeline.Missed | None = None) -> None:
    """End a ready task. With `claimed`, the actor also takes it (it must still be unassigned): the claim
    and the completion in one compare-and-set, `missed()` raised when another claim won meanwhile."""
    values = {"b_id": task_id, "state": state, "ended_at": at, "ended_by": actor}
    if claimed is None:
        pipeline.write(conn, _END, values)
    else:
        pipeline.write(conn, _END_CLAIMED, {**values, "assignee": actor, "claimed_at": claimed},
                       expect=1, missed=missed)


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
         limit: int, after: list[Any] | None, visible_to: Visibility | None = None,
         assignee: str | None = None, unassigned: bool = False, narrowed: Any = None,
         test: bool | None = False, order: str = "created") -> list[dict[str, Any]]:
    """A page of tasks in `order` (engine.db.task_order; oldest first by default): of live incidents, of
    test ones (`test=True`) or both (`test=None`); `after` is the previous page's task_order.position."""
    query = select(tasks)
    if test is not None:
        query = query.where(tasks.c.test == test)
    if narrowed is not None:
        query = filtered(query, narrowed)
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
        query = query.where(task_order.after(order, after))
    query = query.order_by(*task_order.order_by(order)).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


# --- searching (the Camunda dialect's filters, shared with /api/v1's queue) ------------------------------
SORTABLE = {"created": tasks.c.created_at, "due": tasks.c.due_at, "name": tasks.c.name,
            "priority": tasks.c.priority, "follow_up": tasks.c.follow_up_at,
            "assignee": tasks.c.assignee, "id": tasks.c.id, "element": tasks.c.element_id,
            "incident": tasks.c.incident_id}


def _offered_to(kind: str, values: list[str]) -> Any:
    return tasks.c.id.in_(select(task_candidates.c.task_id).where(
        task_candidates.c.kind == kind, task_candidates.c.value.in_(values)))


def filtered(query: Any, f: Any) -> Any:
    """Apply an engine.services.task_search.TaskFilter (duck-typed: the db layer imports no services)."""
    from .tables import incidents

    if f.incident is not None:
        query = query.where(tasks.c.incident_id == f.incident)
    if f.reference is not None:
        query = query.where(tasks.c.incident_id.in_(select(incidents.c.id).where(incidents.c.reference == f.reference)))
    if f.procedure is not None:
        query = query.where(tasks.c.procedure_key == f.procedure)
    if f.procedure_id is not None:
        query = query.where(tasks.c.incident_id.in_(
            select(incidents.c.id).where(incidents.c.procedure_id == f.procedure_id)))
    if f.element_id is not None:
        query = query.where(tasks.c.element_id == f.element_id)
    if f.name is not None:
        query = query.where(tasks.c.name == f.name)
    if f.assignee is not None:
        query = query.where(tasks.c.assignee == f.assignee)
    if f.unassigned:
        query = query.where(tasks.c.assignee.is_(None))
    if f.states:
        query = query.where(tasks.c.state.in_(list(f.states)))
    if f.due_before is not None:
        query = query.where(tasks.c.due_at < f.due_before)
    if f.due_after is not None:
        query = query.where(tasks.c.due_at > f.due_after)
    if f.follow_up_before is not None:
        query = query.where(tasks.c.follow_up_at < f.follow_up_before)
    if f.follow_up_after is not None:
        query = query.where(tasks.c.follow_up_at > f.follow_up_after)
    if f.min_priority is not None:
        query = query.where(tasks.c.priority >= f.min_priority)
    if f.max_priority is not None:
        query = query.where(tasks.c.priority <= f.max_priority)
    if f.priority is not None:
        query = query.where(tasks.c.priority == f.priority)
    offers = []
    if f.candidate_groups:
        offers.append(_offered_to("group", list(f.candidate_groups)))
    if f.candidate_user is not None:
        offers.append(_offered_to("user", [f.candidate_user]))
        if f.candidate_user_groups:
            offers.append(_offered_to("group", list(f.candidate_user_groups)))
    if offers:
        query = query.where(or_(*offers))
        if not f.include_assigned:
            query = query.where(tasks.c.assignee.is_(None))
    return query


def search(conn: Connection, f: Any, *, visible_to: Visibility | None, sort: str = "created",
           descending: bool = False, offset: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """Task rows with their incident's procedure id and reference, offset-paged."""
    from .tables import incidents

    query = select(tasks, incidents.c.procedure_id, incidents.c.procedure_version, incidents.c.reference) \
        .join(incidents, incidents.c.id == tasks.c.incident_id)
    if visible_to is not None:
        query = query.where(task_visible(visible_to))
    column = SORTABLE[sort]
    query = filtered(query, f).order_by(column.desc() if descending else column.asc(), tasks.c.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def count(conn: Connection, f: Any, *, visible_to: Visibility | None) -> int:
    from sqlalchemy import func

    from .tables import incidents

    query = select(func.count()).select_from(tasks.join(incidents, incidents.c.id == tasks.c.incident_id))
    if visible_to is not None:
        query = query.where(task_visible(visible_to))
    return int(conn.execute(filtered(query, f)).scalar() or 0)


def for_incident(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    """Every task of an incident, in every state, in the order they opened."""
    query = select(tasks).where(tasks.c.incident_id == incident_id).order_by(tasks.c.created_at, tasks.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]
