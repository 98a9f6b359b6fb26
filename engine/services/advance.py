"""One transition end to end: run the workflow, settle fire-and-forget service tasks, record everything."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from engine.runtime.runner import IncidentFailed, Outcome, Runner

from .recording import Step, record_outcome, save_failure, save_incident

_MAX_SERVICE_ROUNDS = 100


def advance(conn: Connection, step: Step, runner: Runner, act: Callable[[], Outcome], *,
            completed_task: str | None = None, submitted: dict[str, Any] | None = None) -> Outcome | None:
    """Run `act` and everything it triggers; None when the incident failed and was put in error.

    Every started service task is queued in the outbox. Fire-and-forget ones are finished here, in the
    same transaction; 'wait' ones stay started until the outbox worker has delivered them.
    """
    data = dict(step.incident.get("data") or {})
    try:
        with conn.begin_nested():
            outcome = act()
            record_outcome(conn, step, outcome, completed_task=completed_task, submitted=submitted,
                           mode_of=runner.mode_of)
            data.update(outcome.written)
            for _round in range(_MAX_SERVICE_ROUNDS):
                ready = [s for s in outcome.services if runner.mode_of(s) == "fire_and_forget"]
                if not ready:
                    break
                outcome = runner.finish_service(outcome.state, ready[0].task_id, {})
                record_outcome(conn, step, outcome, mode_of=runner.mode_of)
    except IncidentFailed as err:
        step.audit.clear()
        step.queued.clear()
        save_failure(conn, step, str(err))
        return None
    save_incident(conn, step, outcome, data=data)
    return outcome
