"""Awaited messages and signals, and the correlation keys they are found by: every lookup is an index lookup."""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, select, text

from . import pipeline
from .tables import UTCDateTime, event_wait_keys, event_waits, incidents
from .visibility import Visibility, incident_visible

WaitKey = tuple[str, str, str]  # (task_id, kind, name)


def for_incident(conn: Connection, incident_id: str) -> dict[WaitKey, dict[str, Any]]:
    query = select(event_waits).where(event_waits.c.incident_id == incident_id)
    return {(r["task_id"], r["kind"], r["name"]): dict(r) for r in conn.execute(query).mappings()}


def count_for(conn: Connection, incident_id: str) -> int:
    """How many messages and signals the incident waits for (a running incident waiting on one is not stalled)."""
    query = select(func.count()).select_from(event_waits).where(event_waits.c.incident_id == incident_id)
    return int(conn.execute(query).scalar() or 0)


def insert(conn: Connection, row: dict[str, Any], keys: Mapping[str, str]) -> int | None:
    """A new wait with its keys; its id, or None on PostgreSQL, where the row and its keys go in one statement
    sent without waiting (engine.db.pipeline) and the wait is known by (task_id, kind, name) instead."""
    if conn.dialect.name == "postgresql":
        pipeline.write(conn, _PG_INSERT, {**{c: row[c] for c in _INSERTED},
                                          "keys": json.dumps([{"name": k, "value": v} for k, v in keys.items()])})
        return None
    wait_id = int(conn.execute(event_waits.insert().values(**row).returning(event_waits.c.id)).scalar_one())
    if keys:  # a new wait has no keys to replace
        conn.execute(event_wait_keys.insert(), [{"wait_id": wait_id, "name": k, "value": v} for k, v in keys.items()])
    return wait_id


def id_of(conn: Connection, key: WaitKey) -> int:
    """The id of a wait by (task_id, kind, name) (one inserted by this transaction without reading it back)."""
    task_id, kind, name = key
    return int(conn.execute(select(event_waits.c.id).where(
        event_waits.c.task_id == task_id, event_waits.c.kind == kind, event_waits.c.name == name)).scalar_one())


def set_keys(conn: Connection, wait_id: int, keys: Mapping[str, str]) -> None:
    """Replace the given keys of a wait (others stay)."""
    if not keys:
        return
    pipeline.write(conn, delete(event_wait_keys).where(event_wait_keys.c.wait_id == wait_id,
                                                       event_wait_keys.c.name.in_(list(keys))))
    pipeline.write(conn, event_wait_keys.insert(),
                   [{"wait_id": wait_id, "name": k, "value": v} for k, v in keys.items()])


_INSERTED = ("incident_id", "procedure_key", "task_id", "element_id", "kind", "name", "reference", "created_at")
# PostgreSQL: a wait and its keys in one fixed statement (kept prepared), nothing read back
_PG_INSERT = text(
    f"WITH w AS (INSERT INTO event_waits ({', '.join(_INSERTED)}) VALUES ({', '.join(':' + c for c in _INSERTED)}) "
    "RETURNING id) INSERT INTO event_wait_keys (wait_id, name, value) SELECT w.id, k.name, k.value "
    "FROM w, jsonb_to_recordset(CAST(:keys AS jsonb)) AS k(name text, value text)"
).bindparams(bindparam("created_at", type_=UTCDateTime))
# PostgreSQL: the keys and their waits in one statement (one round trip per transition that ends a wait); a wait
# is named by (task_id, kind, name), unique, so one inserted earlier in the transaction needs no id
_PG_DELETE = text(
    "WITH doomed AS (SELECT id FROM event_waits WHERE (task_id, kind, name) IN (SELECT * FROM unnest("
    "CAST(:tasks AS text[]), CAST(:kinds AS text[]), CAST(:names AS text[])))), "
    "gone AS (DELETE FROM event_wait_keys WHERE wait_id IN (SELECT id FROM doomed)) "
    "DELETE FROM event_waits WHERE id IN (SELECT id FROM doomed)")


def delete_waits(conn: Connection, waits: Collection[dict[str, Any]]) -> None:
    """Delete these waits (rows as stored or inserted) with their keys; sent without waiting on PostgreSQL."""
    if not waits:
        return
    if conn.dialect.name == "postgresql":
        pipeline.write(conn, _PG_DELETE, {"tasks": [w["task_id"] for w in waits], "kinds": [w["kind"] for w in waits],
                                          "names": [w["name"] for w in waits]})
        return
    delete_many(conn, [w["id"] for w in waits])


def delete_many(conn: Connection, wait_ids: Collection[int]) -> None:
    if not wait_ids:
        return
    conn.execute(delete(event_wait_keys).where(event_wait_keys.c.wait_id.in_(list(wait_ids))))
    conn.execute(delete(event_waits).where(event_waits.c.id.in_(list(wait_ids))))


def get(conn: Connection, wait_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(event_waits).where(event_waits.c.id == wait_id)).mappings().first()
    return dict(row) if row else None


def matching(conn: Connection, kind: str, name: str, *, reference: str | None = None,
             keys: Mapping[str, str] | None = None, limit: int,
             visible_to: Visibility | None = None, incident_id: str | None = None) -> list[dict[str, Any]]:
    """Waits of running incidents for this message or signal, narrowed by the incident's reference and by
    variable equalities; at most `limit`, oldest first.

    Each key is a join on event_wait_keys' (name, value) index, so a lookup by one correlation variable
    reads only the waits that have that value, however many incidents wait for the same message.
    """
    query = matching_query(kind, name, reference=reference, keys=keys, limit=limit, visible_to=visible_to,
                           incident_id=incident_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def matching_query(kind: str, name: str, *, reference: str | None = None, keys: Mapping[str, str] | None = None,
                   limit: int, visible_to: Visibility | None = None, incident_id: str | None = None) -> Any:
    """The SELECT `matching` runs (benchmarks/correlation.py explains it)."""
    query = (select(event_waits).join(incidents, incidents.c.id == event_waits.c.incident_id)
             .where(event_waits.c.kind == kind, event_waits.c.name == name, incidents.c.status == "running"))
    if reference is not None:
        query = query.where(event_waits.c.reference == reference)
    if incident_id is not None:
        query = query.where(event_waits.c.incident_id == incident_id)
    for index, (key, value) in enumerate(sorted((keys or {}).items())):
        alias = event_wait_keys.alias(f"k{index}")
        query = query.join(alias, alias.c.wait_id == event_waits.c.id).where(alias.c.name == key,
                                                                             alias.c.value == value)
    if visible_to is not None:
        query = query.where(incident_visible(visible_to))
    return query.order_by(event_waits.c.id).limit(limit)


def signal_batch(conn: Connection, name: str, *, after_id: int, until_id: int, limit: int,
                 exclude_incident: str | None = None) -> list[dict[str, Any]]:
    """The next waits for a signal, in id order, among those that existed when it was sent (but not those
    of the incident that threw it: it caught its own signal in the step that threw it)."""
    query = (select(event_waits).where(event_waits.c.kind == "signal", event_waits.c.name == name,
                                       event_waits.c.id > after_id, event_waits.c.id <= until_id)
             .order_by(event_waits.c.id).limit(limit))
    if exclude_incident is not None:
        query = query.where(event_waits.c.incident_id != exclude_incident)
    return [dict(r) for r in conn.execute(query).mappings()]


def newest_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(event_waits.c.id))).scalar() or 0)
