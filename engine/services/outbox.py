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
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.config import Settings
from engine.db import audit_rows, incident_rows, outbox_rows, procedure_rows

from . import delivery
from .advance import advance
from .engine_app import IncidentEngine
from .recording import Step, save_failure

log = logging.getLogger("incident_engine.outbox")
ACTOR = "system:outbox"


@dataclass(frozen=True)
class Claim:
    row: dict[str, Any]
    number: int

    @property
    def id(self) -> str:
        return str(self.row["id"])

    def message(self) -> delivery.Message:
        row = self.row
        payload = dict(row["payload"] or {})
        body = {"id": row["id"], "topic": row["topic"], "incident_id": row["incident_id"],
                "task_id": row["task_id"], "element_id": row["element_id"],
                "procedure": payload.get("procedure"), "version": payload.get("version"),
                "data": payload.get("data", {}), "created_at": row["created_at"].isoformat()}
        return delivery.Message(row["id"], row["topic"], self.number, body)


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


def backoff(settings: Settings, attempt: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, then a random point in its upper half."""
    ceiling = min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_seconds * 2 ** (attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


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
    result = delivery.send(engine.settings, claim.message())
    status = _settle(engine, claim, result)
    log.info("delivery %s (%s) attempt %d: %s -> %s", claim.id, claim.row["topic"], claim.number,
             result.outcome, status)
    return status


def _settle(engine: IncidentEngine, claim: Claim, result: delivery.Result) -> str:
    settings = engine.settings
    with engine.uow() as uow:
        conn, now = uow.conn, clock.now()
        row = outbox_rows.lock(conn, claim.id)
        outbox_rows.finish_attempt(conn, claim.id, claim.number, outcome=result.outcome, at=now,
                                   http_status=result.http_status, error=result.error)
        if row is None or row["status"] != "delivering" or row["attempts"] != claim.number:
            uow.commit()  # our lease ran out and another attempt owns the row now: only our log line counts
            return str(row["status"]) if row else "missing"
        values: dict[str, Any]
        if result.outcome == "delivered":
            status, values = "delivered", {"delivered_at": now, "last_error": None}
        elif result.outcome == "skipped":
            status, values = "skipped", {"last_error": result.error}
        elif result.retryable and claim.number < settings.outbox_max_attempts:
            retry_at = now + backoff(settings, claim.number)
            status, values = "pending", {"last_error": result.error, "next_attempt_at": retry_at}
        else:
            status, values = "dead", {"last_error": result.error}
        outbox_rows.update(conn, claim.id, {"status": status, "claimed_until": None, **values})
        if status == "delivered" and row["mode"] == "wait":
            _finish_service(engine, conn, claim, result, now)
        elif status == "dead":
            _dead(engine, conn, claim, result, now)
        uow.commit()
    return status


def _step(engine: IncidentEngine, conn: Connection, incident_id: str, now: datetime) -> tuple[Step, Any] | None:
    incident = incident_rows.lock(conn, incident_id)
    if incident is None:
        return None
    proc = procedure_rows.get_by_id(conn, incident["procedure_id"])
    assert proc is not None
    runtime = engine.runtime(proc)
    return Step(incident, runtime, ACTOR, now), engine.runner(runtime)


def _finish_service(engine: IncidentEngine, conn: Connection, claim: Claim, result: delivery.Result,
                    now: datetime) -> None:
    """The delivery succeeded: the waiting service task completes, as one audited transition."""
    found = _step(engine, conn, claim.row["incident_id"], now)
    if found is None or found[0].incident["status"] != "running":
        return
    step, runner = found
    state, task_id = step.incident["state"], str(claim.row["task_id"])
    receipt = {"delivery_id": claim.id, "topic": claim.row["topic"], "attempt": claim.number,
               "http_status": result.http_status}
    try:
        advance(conn, step, runner, lambda: runner.finish_service(state, task_id, {}),
                completed_task=task_id, submitted=receipt)
    except LookupError:
        log.warning("delivery %s succeeded but service task %s no longer waits", claim.id, task_id)


def _dead(engine: IncidentEngine, conn: Connection, claim: Claim, result: delivery.Result, now: datetime) -> None:
    """Out of attempts, or refused for good: audited; a workflow waiting on it cannot go on, so it fails."""
    found = _step(engine, conn, claim.row["incident_id"], now)
    if found is None:
        return
    step, _runner = found
    detail = {"delivery_id": claim.id, "topic": claim.row["topic"], "mode": claim.row["mode"],
              "attempts": claim.number, "last_error": result.error}
    step.event("delivery_dead", detail, task_id=claim.row["task_id"], element_id=claim.row["element_id"])
    if claim.row["mode"] == "wait" and step.incident["status"] == "running":
        save_failure(conn, step, f"delivery {claim.id} to topic {claim.row['topic']!r} failed after "
                                 f"{claim.number} attempt(s): {result.error}")
    else:
        audit_rows.append(conn, step.audit)
