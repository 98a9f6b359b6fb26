"""The ops report of a procedure: everything its page shows, gathered in one read."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.db import criteria_rows

from . import procedures
from .engine_app import IncidentEngine
from .monitoring import evaluate_criteria, recommendations, window_bounds


def procedure_report(engine: IncidentEngine, key: str, *, since: datetime | None = None,
                     until: datetime | None = None, version: int | None = None) -> dict[str, Any]:
    """The version shown (the given one, else the latest), its BPMN XML, the window's metrics, the status of
    the procedure's criteria and the ranked recommendations."""
    since, until = window_bounds(engine, since, until)
    shown = procedures.version(engine, key, version) if version is not None else procedures.versions(engine, key)[-1]
    advice = recommendations(engine, key, since=since, until=until, version=version)
    with engine.uow(write=False) as uow:
        criteria = criteria_rows.listing(uow.conn, procedure=key)
        status = evaluate_criteria(engine, uow.conn, criteria, since, until, engine.settings.monitoring_margin, {})
    xml = procedures.bpmn(engine, key, shown["version"]).decode("utf-8", errors="replace")
    return {"procedure": shown, "since": since, "until": until, "version": version, "bpmn": xml,
            "metrics": advice["metrics"], "criteria": status, "recommendations": advice["items"],
            "none_because": advice["none_because"]}
