"""A scenario's `service` step: what the far side of a service task does, through the engine's own services.

A task pushed through the outbox has its delivery claimed and settled (delivered, or refused); an external
task is fetched and locked through fetchAndLock and then completed, answered with a BPMN error, or failed
with no retries left, as a pull worker would.
"""
from __future__ import annotations

from typing import Any

from engine import clock
from engine.db import external_task_rows, outbox_rows
from engine.scenarios.runner import StepRefused

from . import external_tasks
from .delivery import Result
from .engine_app import IncidentEngine
from .outbox_settle import Claim, settle

WORKER = "scenario-test"


def answer_service(engine: IncidentEngine, incident_id: str, element_id: str, outcome: str, data: dict[str, Any],
                   code: str | None) -> None:
    """Settle the service task `element_id` of the incident: outcome delivered, failed or error (with `code`)."""
    with engine.uow(write=False) as uow:
        pulled = external_task_rows.search(uow.conn, incident_id=incident_id, element_id=element_id,
                                           states=["open"], now=clock.now())
    if pulled:
        _pull(engine, pulled[0], outcome, data, code)
    elif code is not None:
        raise StepRefused(f"service task {element_id} is not an external task: only an external task's worker "
                          "reports a BPMN error")
    else:
        _push(engine, incident_id, element_id, outcome)


def _push(engine: IncidentEngine, incident_id: str, element_id: str, outcome: str) -> None:
    with engine.uow() as uow:
        waiting = [r for r in outbox_rows.for_incident(uow.conn, incident_id)
                   if r["element_id"] == element_id and r["mode"] == "wait" and r["status"] == "pending"]
        if not waiting:
            raise StepRefused(f"service task {element_id} is not waiting on a delivery or a worker (a "
                              "fire-and-forget topic completes at once)")
        row = waiting[0]
        number = outbox_rows.claim(uow.conn, row, clock.now(), 60, WORKER)
        uow.commit()
    result = Result("delivered", 200) if outcome == "delivered" else Result("rejected", 400, "scenario: refused")
    settle(engine, Claim({**row, "status": "delivering", "attempts": number}, number), result)


def _pull(engine: IncidentEngine, row: dict[str, Any], outcome: str, data: dict[str, Any], code: str | None) -> None:
    locked = external_tasks.fetch_and_lock(engine, worker_id=WORKER, max_tasks=external_tasks.MAX_TASKS,
                                           topics=[external_tasks.TopicRequest(row["topic"], 60_000)])
    for other in (t for t in locked if t["id"] != row["id"]):
        external_tasks.unlock(engine, other["id"])
    if row["id"] not in {t["id"] for t in locked}:
        raise StepRefused(f"external task {row['element_id']} could not be fetched (it is locked or waits for a "
                          "retry)")
    if outcome == "delivered":
        external_tasks.complete(engine, row["id"], worker_id=WORKER, variables=data)
    elif outcome == "error":
        external_tasks.bpmn_error(engine, row["id"], worker_id=WORKER, code=str(code), variables=data,
                                  message="scenario: BPMN error")
    else:
        external_tasks.failure(engine, row["id"], worker_id=WORKER, message="scenario: failed", details=None,
                               retries=0)
