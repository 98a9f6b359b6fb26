"""Event declarations of procedure versions: which names exist, and the start events of active versions."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select

from engine.events.declarations import Declaration

from .tables import event_declarations, procedures


def declare(conn: Connection, procedure: dict[str, Any], found: list[Declaration]) -> None:
    """Record a new version's declarations (in the upload's transaction)."""
    rows = [{"procedure_id": procedure["id"], "procedure_key": procedure["key"], "kind": d.kind, "role": d.role,
             "name": d.name, "element_id": d.element_id, "timer_kind": d.timer_kind,
             "timer_expression": d.timer_expression} for d in found]
    if rows:
        conn.execute(event_declarations.insert(), rows)


def is_declared(conn: Connection, kind: str, name: str) -> bool:
    """Does any procedure version (any status) catch, throw or start on this message or signal? A name
    declared with expressions (`alert-${region}`) covers every name it can become (`alert-north`)."""
    query = select(event_declarations.c.id).where(event_declarations.c.kind == kind,
                                                  event_declarations.c.name == name).limit(1)
    if conn.execute(query).first() is not None:
        return True
    templates = select(event_declarations.c.name).where(
        event_declarations.c.kind == kind, event_declarations.c.name.contains("{")).distinct().limit(1000)
    return any(_pattern(t).fullmatch(name) for t in conn.execute(templates).scalars() if t)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"[$#]\{[^}]*\}", template)
    return re.compile(".*".join(re.escape(p) for p in parts), re.S)


def active_starts(conn: Connection, kind: str, name: str | None = None) -> list[dict[str, Any]]:
    """Start events of this kind (and name) on active procedure versions, oldest procedure first."""
    query = (select(event_declarations, procedures.c.version.label("procedure_version"))
             .join(procedures, procedures.c.id == event_declarations.c.procedure_id)
             .where(event_declarations.c.kind == kind, event_declarations.c.role == "start",
                    procedures.c.status == "active")
             .order_by(event_declarations.c.procedure_key, event_declarations.c.element_id))
    if name is not None:
        query = query.where(event_declarations.c.name == name)
    return [dict(r) for r in conn.execute(query).mappings()]
