"""Keeps the event_waits table in step with the workflow in the transition's transaction.

A message or signal the workflow starts waiting for becomes a row, with the correlation keys of the
variables visible there (the incident's case file under the wait's own data); one it stopped waiting for
(caught, cancelled with its activity, the incident ended) is deleted. A procedure that catches no
message or signal never reads the table.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from engine.db import wait_rows
from engine.events.correlation import correlation_keys
from engine.runtime.runner import Outcome

if TYPE_CHECKING:
    from .recording import Step


def sync_waits(conn: Connection, step: Step, outcome: Outcome) -> None:
    if not step.runtime.listens and not outcome.waits:
        return
    if step.waits is None:
        step.waits = wait_rows.for_incident(conn, step.incident["id"])
    stored = step.waits
    current = {(w.task_id, w.kind, w.name): w for w in outcome.waits}
    gone = [key for key in stored if key not in current]
    wait_rows.delete_waits(conn, [stored[key] for key in gone])
    for key in gone:
        del stored[key]
    case_file = {**(step.incident.get("data") or {}), **outcome.written}
    changed = correlation_keys(outcome.written)
    if changed:  # a form completed elsewhere changed the case file the remaining waits see
        for key, kept in stored.items():
            if kept["id"] is None:  # inserted earlier in this transaction without reading its id back
                kept["id"] = wait_rows.id_of(conn, key)
            wait_rows.set_keys(conn, kept["id"], changed)
    for key, wait in current.items():
        if key in stored:
            continue
        row: dict[str, Any] = {
            "incident_id": step.incident["id"], "procedure_key": step.runtime.key, "task_id": wait.task_id,
            "element_id": wait.element_id, "kind": wait.kind, "name": wait.name,
            "reference": step.incident.get("reference"), "created_at": step.at,
        }
        row["id"] = wait_rows.insert(conn, row, correlation_keys(case_file, wait.data))
        stored[key] = row
