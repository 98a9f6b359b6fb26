"""Procedures with messages and signals for tests, deployed and made active (only active versions start on events)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine import clock
from engine.db import governance_rows
from engine.services import procedures
from engine.services.engine_app import IncidentEngine

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "events"


def deploy(engine: IncidentEngine, name: str, *, active: bool = True, data: bytes | None = None) -> dict[str, Any]:
    """Upload tests/fixtures/bpmn/events/<name>.bpmn; `active` stands in for review, fitness test and
    approval (tested in the governance suite) by setting the status the way activation does."""
    row, _ = procedures.deploy(engine, data or (EVENTS / f"{name}.bpmn").read_bytes(), actor="designer")
    if active:
        activate(engine, row)
    return row


def activate(engine: IncidentEngine, row: dict[str, Any]) -> None:
    """Make a version active now, with the activation event a timer start counts from."""
    with engine.uow() as uow:
        governance_rows.set_status(uow.conn, row["id"], "active")
        governance_rows.append_event(uow.conn, {
            "procedure_id": row["id"], "procedure_key": row["key"], "procedure_version": row["version"],
            "action": "activate", "from_status": row["status"], "to_status": "active", "actor": "approver",
            "at": clock.now(), "data": {}})
        uow.commit()
