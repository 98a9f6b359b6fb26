"""Procedures with messages and signals for tests, deployed and made active (only active versions start on events)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.db import governance_rows
from engine.services import procedures
from engine.services.engine_app import IncidentEngine

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "events"


def deploy(engine: IncidentEngine, name: str, *, active: bool = True, data: bytes | None = None) -> dict[str, Any]:
    """Upload tests/fixtures/bpmn/events/<name>.bpmn; `active` stands in for review, fitness test and
    approval (tested in the governance suite) by setting the status the way activation does."""
    row, _ = procedures.deploy(engine, data or (EVENTS / f"{name}.bpmn").read_bytes(), actor="designer")
    if active:
        with engine.uow() as uow:
            governance_rows.set_status(uow.conn, row["id"], "active")
            uow.commit()
    return row
