"""The retention job: personal data of incidents whose retention ended is erased, in batches, exactly once.

Run by Celery beat (or the in-process scheduler). First it gives ended incidents their deadline (the
procedure's `retention`, else PERSONAL_DATA_RETENTION, after `ended_at`), then erases the ones due that are
not under legal hold, each with an audit row `personal_data_erased` (reason `retention`).
"""
from __future__ import annotations

import logging
from datetime import datetime

from engine import clock
from engine.db import incident_rows, personal_rows
from engine.records.declarations import declared

from .engine_app import IncidentEngine
from .erasure import erase_incident

log = logging.getLogger(__name__)
BATCH = 100


def stamp_deadlines(engine: IncidentEngine, *, batch: int = BATCH) -> int:
    """Give ended incidents' personal values their erase-after time; how many incidents were stamped."""
    with engine.uow() as uow:
        rows = personal_rows.ended_unstamped(uow.conn, batch)
        for row in rows:
            runtime = engine.runtime_by_id(uow.conn, row["procedure_id"])
            until = declared(runtime.definition).retain_until(row["ended_at"], engine.settings.personal_data_retention)
            personal_rows.stamp_retention(uow.conn, row["id"], until)
        uow.commit()
    return len(rows)


def erase_expired(engine: IncidentEngine, *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Erase the personal data of incidents past their retention; how many incidents were erased."""
    now = now or clock.now()
    while stamp_deadlines(engine, batch=batch) == batch:
        pass
    erased = 0
    while True:
        with engine.uow() as uow:
            ids = personal_rows.due(uow.conn, now, batch)
            for incident_id in ids:
                incident = incident_rows.get(uow.conn, incident_id)
                if incident is not None and erase_incident(uow.conn, incident, reason="retention", actor="retention",
                                                           at=now) is not None:
                    erased += 1
            uow.commit()
        if len(ids) < batch:
            break
    if erased:
        log.info("retention: erased the personal data of %d incident(s)", erased)
    return erased
