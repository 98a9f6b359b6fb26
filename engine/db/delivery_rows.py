"""The read that opens a message or signal delivery, built once: the incident locked, with its waits, its audit
chain head and whether it has open tasks, in one statement.

On PostgreSQL a lock that had to wait for another transaction returns the row as that transaction left it,
but the rest of the statement (the waits, the head) still comes from the snapshot taken before the wait.
The statement therefore also reads the row version through that snapshot: when the two differ, another
transition committed meanwhile and the waits are read again (and the head is left to the append to lock),
so nothing stale is ever used. Without a wait (the common case) it is one round trip.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from . import wait_rows
from .audit_rows import known_heads
from .tables import audit_chain_heads, event_waits, incidents, tasks

_INCIDENTS = incidents.alias("seen")
_SEEN_VERSION = (select(_INCIDENTS.c.row_version).where(_INCIDENTS.c.id == incidents.c.id)
                 .scalar_subquery().label("seen_version"))
_OPEN_TASKS = (select(func.count()).select_from(tasks)
               .where(tasks.c.incident_id == incidents.c.id, tasks.c.state == "ready")
               .scalar_subquery().label("open_tasks"))
_CHAIN_SEQ = (select(audit_chain_heads.c.seq).where(audit_chain_heads.c.incident_id == incidents.c.id)
              .scalar_subquery().label("chain_seq"))
_CHAIN_HASH = (select(audit_chain_heads.c.hash).where(audit_chain_heads.c.incident_id == incidents.c.id)
               .scalar_subquery().label("chain_hash"))
_WAIT_COLUMNS = [c.label(f"w_{c.name}") for c in event_waits.c]
_LOCK = (select(incidents, _SEEN_VERSION, _OPEN_TASKS, _CHAIN_SEQ, _CHAIN_HASH, *_WAIT_COLUMNS)
         .select_from(incidents.outerjoin(event_waits, event_waits.c.incident_id == incidents.c.id))
         .where(incidents.c.id == bindparam("b_incident")).order_by(event_waits.c.id))
_LOCK_PG = _LOCK.with_for_update(of=incidents)
_EXTRA = {"seen_version", "open_tasks", "chain_seq", "chain_hash", *(c.name for c in _WAIT_COLUMNS)}


@dataclass
class Locked:
    """The incident as the lock returned it (workflow state included) and what came with it."""

    incident: dict[str, Any]
    waits: dict[wait_rows.WaitKey, dict[str, Any]] = field(default_factory=dict)
    has_open_tasks: bool = True  # unknown (read again) counts as "has some"


def lock(conn: Connection, incident_id: str) -> Locked | None:
    """Lock the incident until the transaction ends (PostgreSQL row lock; SQLite's write transaction already
    excludes other writers) and read what its delivery needs; None when there is no such incident.

    The chain head read here is kept for this transaction's append (engine.db.audit_rows.known_heads)."""
    query = _LOCK_PG if conn.dialect.name == "postgresql" else _LOCK
    rows = [dict(r) for r in conn.execute(query, {"b_incident": incident_id}).mappings()]
    if not rows:
        return None
    first = rows[0]
    incident = {k: v for k, v in first.items() if k not in _EXTRA}
    if first["seen_version"] != first["row_version"]:  # another transition committed while we waited
        return Locked(incident, wait_rows.for_incident(conn, incident_id))
    waits: dict[wait_rows.WaitKey, dict[str, Any]] = {}
    for row in rows:
        if row["w_id"] is not None:
            wait = {c.name: row[f"w_{c.name}"] for c in event_waits.c}
            waits[(wait["task_id"], wait["kind"], wait["name"])] = wait
    if first["chain_seq"] is not None:
        known_heads(conn)[incident_id] = (int(first["chain_seq"]), str(first["chain_hash"]))
    return Locked(incident, waits, has_open_tasks=bool(first["open_tasks"]))
