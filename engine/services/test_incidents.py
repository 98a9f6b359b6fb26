"""The retention job of test incidents: purged TEST_INCIDENT_RETENTION_DAYS after their last activity.

Test incidents run versions that are not live yet, for people trying a procedure out; they are marked on
every row, never counted by monitoring, and not kept: the beat (or the in-process scheduler) calls
`purge_expired` every TEST_INCIDENT_PURGE_SECONDS, and `incident-engine purge-test-incidents` runs it once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from engine import clock
from engine.db import purge_rows

from .engine_app import IncidentEngine

log = logging.getLogger("incident_engine.test_incidents")
BATCH = 200


def purge_expired(engine: IncidentEngine, *, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete every test incident idle for longer than the retention period, `batch` per transaction."""
    days = engine.settings.test_incident_retention_days
    before = (now or clock.now()) - timedelta(days=days)
    total = 0
    while True:
        with engine.uow() as uow:
            ids = purge_rows.expired_test_incidents(uow.conn, before, batch)
            total += purge_rows.delete_incidents(uow.conn, ids)
            uow.commit()
        if len(ids) < batch:
            break
    if total:
        log.info("purged %d test incident(s) idle since before %s", total, before.isoformat())
    return total
