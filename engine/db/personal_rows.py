"""The personal-data store: values by incident and name, data-subject links, legal holds, subject requests."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .tables import data_subjects, incidents, legal_holds, personal_data, subject_requests


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def keep(conn: Connection, incident_id: str, values: dict[str, Any], at: datetime) -> None:
    """Store (or replace) the incident's personal values; a value given again after an erasure is kept anew."""
    for name, value in values.items():
        stmt = _insert(conn, personal_data).values(incident_id=incident_id, name=name, value=value, recorded_at=at)
        conn.execute(stmt.on_conflict_do_update(
            index_elements=[personal_data.c.incident_id, personal_data.c.name],
            set_={"value": value, "recorded_at": at, "erased_at": None, "erased_reason": None, "retain_until": None}))


def link_subject(conn: Connection, incident_id: str, subject_key: str, at: datetime) -> None:
    stmt = _insert(conn, data_subjects).values(incident_id=incident_id, subject_key=subject_key, linked_at=at)
    conn.execute(stmt.on_conflict_do_nothing())


def incidents_of(conn: Connection, subject_key: str) -> list[str]:
    query = (select(data_subjects.c.incident_id).where(data_subjects.c.subject_key == subject_key)
             .order_by(data_subjects.c.incident_id))
    return list(conn.execute(query).scalars())


def rows(conn: Connection, incident_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not incident_ids:
        return []
    query = (select(personal_data).where(personal_data.c.incident_id.in_(list(incident_ids)))
             .order_by(personal_data.c.incident_id, personal_data.c.name))
    return [dict(r) for r in conn.execute(query).mappings()]


def values(conn: Connection, incident_id: str) -> dict[str, Any]:
    """name -> the value held (None once erased)."""
    query = select(personal_data.c.name, personal_data.c.value, personal_data.c.erased_at).where(
        personal_data.c.incident_id == incident_id)
    return {r.name: (None if r.erased_at is not None else r.value) for r in conn.execute(query)}


def erase(conn: Connection, incident_id: str, reason: str, at: datetime) -> list[str]:
    """Erase the incident's values still held; the names erased (none when nothing was left)."""
    held = and_(personal_data.c.incident_id == incident_id, personal_data.c.erased_at.is_(None))
    names = sorted(conn.execute(select(personal_data.c.name).where(held)).scalars())
    if names:
        conn.execute(update(personal_data).where(held).values(value=None, erased_at=at, erased_reason=reason))
    return names


def stamp_retention(conn: Connection, incident_id: str, until: datetime) -> None:
    conn.execute(update(personal_data).where(personal_data.c.incident_id == incident_id,
                                             personal_data.c.erased_at.is_(None),
                                             personal_data.c.retain_until.is_(None)).values(retain_until=until))


def ended_unstamped(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Ended incidents whose held personal values have no retention deadline yet."""
    query = (select(incidents.c.id, incidents.c.procedure_id, incidents.c.ended_at)
             .where(incidents.c.ended_at.is_not(None),
                    incidents.c.id.in_(select(personal_data.c.incident_id).where(
                        personal_data.c.retain_until.is_(None), personal_data.c.erased_at.is_(None))))
             .order_by(incidents.c.ended_at).limit(limit))
    return [dict(r) for r in conn.execute(query).mappings()]


def due(conn: Connection, now: datetime, limit: int) -> list[str]:
    """Incidents with values past their retention and no legal hold, locked (others' are skipped)."""
    due_ids = select(personal_data.c.incident_id).where(personal_data.c.retain_until <= now,
                                                        personal_data.c.erased_at.is_(None))
    query = (select(incidents.c.id).where(incidents.c.id.in_(due_ids),
                                          incidents.c.id.not_in(select(legal_holds.c.incident_id)))
             .order_by(incidents.c.id).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query).scalars())


def holds(conn: Connection, incident_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not incident_ids:
        return {}
    query = select(legal_holds).where(legal_holds.c.incident_id.in_(list(incident_ids)))
    return {r["incident_id"]: dict(r) for r in conn.execute(query).mappings()}


def set_hold(conn: Connection, incident_id: str, reason: str, by: str | None, at: datetime) -> None:
    stmt = _insert(conn, legal_holds).values(incident_id=incident_id, reason=reason, set_by=by, set_at=at)
    conn.execute(stmt.on_conflict_do_update(index_elements=[legal_holds.c.incident_id],
                                            set_={"reason": reason, "set_by": by, "set_at": at}))


def release_hold(conn: Connection, incident_id: str) -> bool:
    return bool(conn.execute(delete(legal_holds).where(legal_holds.c.incident_id == incident_id)).rowcount)


def record_request(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(subject_requests.insert().values(**row))


def requests_for(conn: Connection, subject_key: str) -> list[dict[str, Any]]:
    query = (select(subject_requests).where(subject_requests.c.subject_key == subject_key)
             .order_by(subject_requests.c.requested_at))
    return [dict(r) for r in conn.execute(query).mappings()]


def count_held(conn: Connection, incident_id: str) -> int:
    return int(conn.execute(select(func.count()).select_from(personal_data).where(
        personal_data.c.incident_id == incident_id, personal_data.c.erased_at.is_(None))).scalar_one())
