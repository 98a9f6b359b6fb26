"""Use cases for colleagues' review: comment on a version (or one of its BPMN elements), list, resolve with a reply.

Approval waits until every comment is resolved (engine.governance.approval).
"""
from __future__ import annotations

import uuid
from typing import Any

from engine import clock
from engine.db import comment_rows
from engine.errors import Conflict, Invalid, NotFound, Problem

from .engine_app import IncidentEngine
from .governance import version_row


def _check_element(engine: IncidentEngine, proc: dict[str, Any], element_id: str) -> None:
    definition = engine.runtime(proc).definition
    known = {definition.key, *definition.nodes, *definition.flows}
    if element_id not in known:
        raise Invalid(f"version {proc['version']} of {proc['key']} has no element {element_id!r}",
                      [Problem("no such BPMN element in this version", field="element_id")])


def add(engine: IncidentEngine, key: str, number: int, *, body: str, element_id: str | None = None,
        actor: str | None = None, principal: Any = None) -> dict[str, Any]:
    """Any colleague may comment, on the whole version or on one element (task, gateway, flow, event)."""
    with engine.uow() as uow:
        proc = version_row(uow.conn, key, number)
        if element_id:
            _check_element(engine, proc, element_id)
        row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "element_id": element_id or None,
               "body": body, "author": actor, "created_at": clock.now(), "status": "open",
               "reply": None, "resolved_by": None, "resolved_at": None}
        comment_rows.insert(uow.conn, row)
        uow.commit()
    return row


def page(engine: IncidentEngine, key: str, number: int, *, status: str | None = None) -> list[dict[str, Any]]:
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
        return comment_rows.for_procedure(uow.conn, proc["id"], status)


def resolve(engine: IncidentEngine, key: str, number: int, comment_id: str, *, reply: str,
            actor: str | None = None, principal: Any = None) -> dict[str, Any]:
    """Close a comment with a reply saying what was done about it; resolving twice is a conflict."""
    with engine.uow() as uow:
        proc = version_row(uow.conn, key, number)
        found = comment_rows.get(uow.conn, proc["id"], comment_id)
        if found is None:
            raise NotFound(f"version {number} of {key} has no comment {comment_id}")
        values = {"reply": reply, "resolved_by": actor, "resolved_at": clock.now()}
        if not comment_rows.resolve(uow.conn, comment_id, values):
            raise Conflict("the comment is already resolved", current_status="resolved")
        uow.commit()
    return {**found, **values, "status": "resolved"}
