"""Settling one delivery attempt in one transaction: its outcome, the retry schedule, and the workflow.

Only the attempt that still holds the claim changes anything: a worker whose lease ran out while it was
sending (another worker took the row over) has its result logged on its own attempt and nothing else, so
the workflow sees one transition however many times a message was sent. A delivered `wait` message
(or one of a test incident, which is never sent) finishes its service task (an audited transition); a delivery that is given up is audited as
`delivery_dead` and, for a `wait` topic, puts the incident in error.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from engine import clock
from engine.config import Settings
from engine.db import audit_rows, incident_rows, outbox_rows

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

    @property
    def test(self) -> bool:
        """A side effect of a test incident (never sent)."""
        return bool((self.row["payload"] or {}).get("test"))

    def message(self) -> delivery.Message:
        row = self.row
        payload = dict(row["payload"] or {})
        body = {"id": row["id"], "topic": row["topic"], "incident_id": row["incident_id"],
                "task_id": row["task_id"], "element_id": row["element_id"],
                "procedure": payload.get("procedure"), "version": payload.get("version"),
                "data": payload.get("data", {}), "created_at": row["created_at"].isoformat()}
        return delivery.Message(row["id"], row["topic"], self.number, body)


def backoff(settings: Settings, attempt: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, then a random point in its upper half."""
    ceiling = min(settings.outbox_backoff_max_seconds, settings.outbox_backoff_seconds * 2 ** (attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def settle(engine: IncidentEngine, claim: Claim, result: delivery.Result) -> str:
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
        if row["mode"] == "wait" and (status == "delivered" or (status == "skipped" and claim.test)):
            _finish_service(engine, conn, claim, result, now)
        elif status == "dead":
            _dead(engine, conn, claim, result, now)
        uow.commit()
    return status


def _step(engine: IncidentEngine, conn: Connection, incident_id: str, now: datetime) -> tuple[Step, Any] | None:
    incident = incident_rows.lock(conn, incident_id)
    if incident is None:
        return None
    runtime = engine.runtime_by_id(conn, incident["procedure_id"])
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
