"""The debriefs table: a snapshot of a major incident's debrief record, taken when the incident completes."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, select

from . import pipeline
from .prebuilt import Prebuilt
from .tables import debriefs


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def save(conn: Connection, incident_id: str, key: str, version: int, record: dict[str, Any],
         at: datetime) -> None:
    """Store (or replace) the snapshot; timestamps inside the record are kept as ISO 8601 text."""
    pipeline.write(conn, _DELETE, {"b_incident": incident_id})
    pipeline.write(conn, _INSERT, {"incident_id": incident_id, "procedure_key": key, "procedure_version": version,
                                   "record": _as_stored(record), "created_at": at})


# built once (SQLAlchemy then only looks up their compiled forms)
_DELETE = Prebuilt(delete(debriefs).where(debriefs.c.incident_id == bindparam("b_incident")))
_INSERT = Prebuilt(debriefs.insert().inline())


def _as_stored(record: dict[str, Any]) -> Any:
    """The record as JSON gives it back (timestamps as ISO 8601 text): orjson, with the standard library for
    what orjson refuses (an integer beyond 64 bits, a key that is not a string) so the values are the same;
    datetimes go through `_plain` either way."""
    try:
        return orjson.loads(orjson.dumps(record, default=_plain, option=orjson.OPT_PASSTHROUGH_DATETIME))
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.loads(json.dumps(record, default=_plain))


def get(conn: Connection, incident_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(debriefs).where(debriefs.c.incident_id == incident_id)).mappings().first()
    return dict(row) if row else None
