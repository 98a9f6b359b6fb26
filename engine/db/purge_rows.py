"""Deleting incidents with everything they wrote: the one place rows of the incident tables are removed.

Used only for test incidents (the audit trail of a live incident is append-only and never passes
through here). Every table with an `incident_id` column is covered, so a table added later is purged
too; the side tables keyed by a task or an outbox row are deleted first.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Table, delete, select, text

from .tables import audit, delivery_attempts, idempotency, incidents, metadata, outbox, task_candidates, tasks


def expired_test_incidents(conn: Connection, before: datetime, limit: int) -> list[str]:
    """Ids of test incidents with no activity since `before`, oldest first."""
    query = (select(incidents.c.id).where(incidents.c.test, incidents.c.updated_at < before)
             .order_by(incidents.c.updated_at).limit(limit))
    return list(conn.execute(query).scalars())


def _incident_tables() -> list[Table]:
    """Tables holding rows of an incident, children before parents (incidents itself excluded)."""
    return [t for t in reversed(metadata.sorted_tables) if "incident_id" in t.c and t is not incidents]


def delete_incidents(conn: Connection, ids: Sequence[str]) -> int:
    """Delete the incidents `ids` and every row they own; returns how many incidents went."""
    if not ids:
        return 0
    task_ids = select(tasks.c.id).where(tasks.c.incident_id.in_(ids))
    conn.execute(delete(task_candidates).where(task_candidates.c.task_id.in_(task_ids)))
    scopes = [f"complete:{task_id}" for task_id in conn.execute(task_ids).scalars()]
    if scopes:
        conn.execute(delete(idempotency).where(idempotency.c.scope.in_(scopes)))
    outbox_ids = select(outbox.c.id).where(outbox.c.incident_id.in_(ids))
    conn.execute(delete(delivery_attempts).where(delivery_attempts.c.outbox_id.in_(outbox_ids)))
    for table in _incident_tables():
        if table is audit and conn.dialect.name == "postgresql":
            # the service role may not delete audit rows: this definer function removes test rows only
            conn.execute(text("SELECT purge_test_audit(:ids)"), {"ids": list(ids)})
            continue
        conn.execute(delete(table).where(table.c.incident_id.in_(ids)))
    return int(conn.execute(delete(incidents).where(incidents.c.id.in_(ids))).rowcount or 0)
