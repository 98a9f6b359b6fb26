"""The debriefs table: a snapshot of a major incident's debrief record, taken when the incident completes."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from . import pipeline
from .tables import debriefs


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def save(conn: Connection, incident_id: str, key: str, version: int, record: dict[str, Any],
         at: datetime) -> None:
    """Store (or replace) the snapshot; timestamps inside the record are kept as ISO 8601 text."""
    pipeline.write(conn, delete(debriefs).where(debriefs.c.incident_id == incident_id))
    pipeline.write(conn, debriefs.insert().inline().values(
        incident_id=incident_id, procedure_key=key, procedure_version=version,
        record=json.loads(json.dumps(record, default=_plain)), created_at=at))


def get(conn: Connection, incident_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(debriefs).where(debriefs.c.incident_id == incident_id)).mappings().first()
    return dict(row) if row else None
