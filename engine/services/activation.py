"""Use cases for going live: activate an approved version, brief everyone affected, read the briefing.

Activating retires the version that was active (one active version per key), so new incidents take the
new version while running incidents finish on the one they started with. The briefing (purpose,
objectives, what changed) is stored with the activation event and queued in the outbox, one row per lane
or candidate group, topic `briefing.<group>`; the outbox workers deliver it (webhook per topic).
"""
from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.db import governance_rows, procedure_rows, strategy_rows
from engine.db.tables import outbox
from engine.errors import NotFound
from engine.governance import briefing as briefs
from engine.governance import briefing_markdown, lifecycle
from engine.governance.criteria import describe
from engine.governance.outline import outline, purpose_of

from .engine_app import IncidentEngine
from .governance import apply, locked_version, status_view

BRIEFING_TOPIC = "briefing.{group}"


def _outline(engine: IncidentEngine, conn: Connection, proc: dict[str, Any]) -> dict[str, Any]:
    data = procedure_rows.bpmn(conn, proc["id"])
    assert data is not None
    return outline(engine.runtime(proc, bpmn=data).definition, purpose_of(data, proc["key"]))


def _objectives(conn: Connection, procedure_id: str) -> list[dict[str, Any]]:
    return [{"id": o["id"], "name": o["name"], "description": o["description"],
             "strategy": {"id": o["strategy_id"], "name": o["strategy_name"]},
             "criteria": [{"id": c["id"], "name": c["name"], "metric": c["metric"], "statistic": c["statistic"],
                           "comparator": c["comparator"], "target": c["target"], "params": c["params"],
                           "filter": c["filter"], "text": describe(c)} for c in o["criteria"]]}
            for o in strategy_rows.objectives_of(conn, procedure_id)]


def _queue(conn: Connection, key: str, briefing: dict[str, Any], markdown: str) -> None:
    now = clock.now()
    rows = [{"id": str(uuid.uuid4()), "incident_id": f"procedure:{key}", "task_id": None,
             "topic": BRIEFING_TOPIC.format(group=group),
             "payload": {"kind": "procedure_briefing", "group": group, "briefing": briefing, "markdown": markdown},
             "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for group in briefing["audience"]]
    if rows:
        conn.execute(outbox.insert(), rows)


def activate(engine: IncidentEngine, key: str, number: int, *, actor: str | None = None,
             principal: Any = None) -> dict[str, Any]:
    """approved -> active; the previously active version (if any) is retired in the same transaction."""
    with engine.uow() as uow:
        conn = uow.conn
        versions = governance_rows.lock_key(conn, key)
        proc = locked_version(conn, key, number)
        lifecycle.transition(proc["status"], "activate")
        current = next((v for v in versions if v["status"] == "active"), None)
        retired = [v for v in versions if v["status"] == "retired"]
        previous = current or (max(retired, key=lambda v: v["version"]) if retired else None)
        if current is not None:
            apply(conn, current, "retire", actor, {"replaced_by": number})
        briefing = briefs.build(
            _outline(engine, conn, proc), version=number,
            previous=_outline(engine, conn, previous) if previous else None,
            previous_version=previous["version"] if previous else None,
            objectives=_objectives(conn, proc["id"]), activated_at=clock.now().isoformat(), activated_by=actor)
        markdown = briefing_markdown.render(briefing)
        apply(conn, proc, "activate", actor, {"briefing": briefing, "retired_version":
                                              current["version"] if current else None})
        _queue(conn, key, briefing, markdown)
        view = {**status_view(conn, proc), "briefing": briefing}
        uow.commit()
    return view


def get_briefing(engine: IncidentEngine, key: str, number: int | None = None) -> dict[str, Any]:
    """The briefing sent when the active version (or version `number`) was activated, with its Markdown."""
    with engine.uow(write=False) as uow:
        proc = governance_rows.active(uow.conn, key) if number is None else procedure_rows.get(uow.conn, key, number)
        if proc is None:
            what = f"version {number} of {key!r}" if number else f"active version of {key!r}"
            raise NotFound(f"there is no {what}")
        event = governance_rows.last_event(uow.conn, proc["id"], "activate")
    if event is None or not (event.get("data") or {}).get("briefing"):
        raise NotFound(f"version {proc['version']} of {key!r} was never activated, so there is no briefing")
    briefing = event["data"]["briefing"]
    return {**briefing, "markdown": briefing_markdown.render(briefing)}
