"""Delivering outbox rows: at least once to the receiver (deduplicated by its key), exactly once to the workflow.

An attempt is three steps, and no database lock is held while the network is used:
1. claim: in a short transaction, take due rows (SKIP LOCKED on PostgreSQL), mark them `delivering`
   with a lease and record the attempt;
2. send: POST the webhook or the e-mail, outside any transaction;
3. settle: in one transaction, record the result and, for a `wait` topic, finish the service task in
   the workflow (an audited transition). Failures are retried with exponential backoff and jitter until
   OUTBOX_MAX_ATTEMPTS; then the row is `dead`.
A worker killed between 1 and 3 leaves a `delivering` row whose lease runs out; the next claim sends it
again with the same Idempotency-Key, and only the settle step that still holds the claim touches the
workflow, so the incident sees one transition.
"""
from __future__ import annotations

import logging
import os
import socket

from engine import clock
from engine.db import outbox_rows

from . import delivery
from .engine_app import IncidentEngine
from .outbox_settle import Claim, settle

log = logging.getLogger("incident_engine.outbox")
# A test incident's side effects are never sent (no e-mail to a regulator from someone trying a draft); a
# service task waiting on one goes on as if it had been delivered.
TEST_INCIDENT = delivery.Result("skipped", None, "a test incident: nothing is sent")


def deliver_due(engine: IncidentEngine, *, limit: int | None = None) -> int:
    """Claim and deliver up to `limit` due rows (default OUTBOX_BATCH); returns how many were attempted."""
    claims = _claim(engine, limit or engine.settings.outbox_batch)
    for claim in claims:
        _attempt(engine, claim)
    return len(claims)


def deliver(engine: IncidentEngine, outbox_id: str) -> str | None:
    """One attempt at one row if it is due; its new status, or None when it was not due or not free."""
    claims = _claim(engine, 1, only=outbox_id)
    return _attempt(engine, claims[0]) if claims else None


def due_ids(engine: IncidentEngine, *, limit: int | None = None) -> list[str]:
    """Ids of rows due for an attempt (not claimed: `deliver` claims each one), for a queue to fan out."""
    with engine.uow(write=False) as uow:
        return outbox_rows.due_ids(uow.conn, clock.now(), limit=limit or engine.settings.outbox_batch)


def _claim(engine: IncidentEngine, limit: int, only: str | None = None) -> list[Claim]:
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with engine.uow() as uow:
        now = clock.now()
        rows = outbox_rows.claimable(uow.conn, now, limit=limit, only=only)
        claims = [Claim(row, outbox_rows.claim(uow.conn, row, now, engine.settings.outbox_lease_seconds, worker))
                  for row in rows]
        uow.commit()
    return claims


def _attempt(engine: IncidentEngine, claim: Claim) -> str:
    result = TEST_INCIDENT if claim.test else delivery.send(engine.settings, claim.message())
    status = settle(engine, claim, result)
    log.info("delivery %s (%s) attempt %d: %s -> %s", claim.id, claim.row["topic"], claim.number,
             result.outcome, status)
    return status
