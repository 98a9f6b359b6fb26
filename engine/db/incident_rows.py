"""Reading and writing incidents, with the row version that guards against lost updates."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from . import pipeline
from .prebuilt import Prebuilt
from .tables import incidents, tasks
from .visibility import Visibility, incident_visible

_VIEW_COLUMNS = [c for c in incidents.c if c.name != "state"]


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(incidents.insert().values(**row))


def get(conn: Connection, incident_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(*_VIEW_COLUMNS).where(incidents.c.id == incident_id)).mappings().first()
    return dict(row) if row else None


def is_visible(conn: Connection, incident_id: str, visible_to: Visibility) -> bool:
    query = select(incidents.c.id).where(incidents.c.id == incident_id, incident_visible(visible_to))
    return conn.execute(query).first() is not None


def lock(conn: Connection, incident_id: str) -> dict[str, Any] | None:
    """The incident with its workflow state, locked until the transaction ends (PostgreSQL row lock)."""
    query = select(incidents).where(incidents.c.id == incident_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def by_reference(conn: Connection, key: str, reference: str) -> dict[str, Any] | None:
    query = select(*_VIEW_COLUMNS).where(incidents.c.procedure_key == key, incidents.c.reference == reference)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


# Built once; the columns it sets come from the parameters (SQLAlchemy caches one compiled form per set).
_UPDATE = incidents.update().where(incidents.c.id == bindparam("b_id"),
                                   incidents.c.row_version == bindparam("b_row_version"))
_SAVE = Prebuilt(_UPDATE)


def update(conn: Connection, incident_id: str, row_version: int, values: dict[str, Any]) -> bool:
    """Write a transition; False when someone else wrote first (the row version moved)."""
    result = conn.execute(_UPDATE, {"b_id": incident_id, "b_row_version": row_version,
                                    "row_version": row_version + 1, **values})
    if result.rowcount == 1:
        written = conn.info.setdefault(_WRITTEN, {})
        written[incident_id] = max(written.get(incident_id, 0), row_version + 1)
    return result.rowcount == 1


_WRITTEN = "incident_engine.incident_versions_written"


def written_since(conn: Connection, incident_id: str, row_version: int) -> bool:
    """Whether this connection wrote the incident past `row_version` (a call's child resumed or failed its
    parent in the same transaction): its view must then be read anew."""
    return int(conn.info.get(_WRITTEN, {}).get(incident_id, 0)) > row_version


def save(conn: Connection, incident_id: str, row_version: int, values: dict[str, Any],
         missed: pipeline.Missed) -> None:
    """`update`, with `missed()` raised when the row version moved (at once, or when the transition's
    pipelined writes come back: engine.db.pipeline)."""
    pipeline.write(conn, _SAVE, {"b_id": incident_id, "b_row_version": row_version,
                                 "row_version": row_version + 1, **values}, expect=1, missed=missed)
    written = conn.info.setdefault(_WRITTEN, {})  # if it missed, `missed()` rolls the transaction back
    written[incident_id] = max(written.get(incident_id, 0), row_version + 1)


def page(conn: Connection, *, status: str | None, procedure: str | None, limit: int,
         after: tuple[datetime, str] | None, ids: list[str] | None = None,
         visible_to: Visibility | None = None, test: bool | None = False) -> list[dict[str, Any]]:
    """A page of incidents newest first: live ones, test ones (`test=True`) or both (`test=None`)."""
    query = select(*_VIEW_COLUMNS)
    if test is not None:
        query = query.where(incidents.c.test == test)
    if visible_to is not None:
        query = query.where(incident_visible(visible_to))
    if status:
        query = query.where(incidents.c.status == status)
    if procedure:
        query = query.where(incidents.c.procedure_key == procedure)
    if ids is not None:
        query = query.where(incidents.c.id.in_(ids))
    if after is not None:
        created_at, last_id = after
        query = query.where(or_(incidents.c.created_at < created_at,
                                and_(incidents.c.created_at == created_at, incidents.c.id < last_id)))
    query = query.order_by(incidents.c.created_at.desc(), incidents.c.id.desc()).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def search(conn: Connection, *, procedure: str | None = None, procedure_id: str | None = None,
           reference: str | None = None, ids: list[str] | None = None, statuses: list[str] | None = None,
           visible_to: Visibility | None = None, limit: int = 10_000) -> list[dict[str, Any]]:
    """Incidents matching every given filter, oldest first (Camunda's order), at most `limit`."""
    query = select(*_VIEW_COLUMNS)
    if visible_to is not None:
        query = query.where(incident_visible(visible_to))
    if procedure is not None:
        query = query.where(incidents.c.procedure_key == procedure)
    if procedure_id is not None:
        query = query.where(incidents.c.procedure_id == procedure_id)
    if reference is not None:
        query = query.where(incidents.c.reference == reference)
    if ids is not None:
        query = query.where(incidents.c.id.in_(ids))
    if statuses is not None:
        query = query.where(incidents.c.status.in_(statuses))
    query = query.order_by(incidents.c.created_at, incidents.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def idle_running(conn: Connection, limit: int) -> list[str]:
    """Running incidents with no ready task and no pending timer: the candidates of the stall sweep (they
    may still wait on a message, a signal, a delivery or an external task)."""
    open_task = select(tasks.c.id).where(tasks.c.incident_id == incidents.c.id, tasks.c.state == "ready").exists()
    query = (select(incidents.c.id).where(incidents.c.status == "running", incidents.c.next_timer_at.is_(None),
                                           ~open_task).order_by(incidents.c.updated_at).limit(limit))
    return [row[0] for row in conn.execute(query)]


def children(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    """The child incidents a call activity of this incident started, oldest first."""
    query = select(*_VIEW_COLUMNS).where(incidents.c.parent_incident_id == incident_id)
    return [dict(r) for r in conn.execute(query.order_by(incidents.c.created_at)).mappings()]
