"""One transition end to end: run the workflow, settle fire-and-forget service tasks, record everything."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from engine.runtime.runner import IncidentFailed, Outcome, Runner
from engine.runtime.stall import stall_reason

from .recording import Step, record_outcome, save_failure, save_incident

_MAX_SERVICE_ROUNDS = 100


def advance(conn: Connection, step: Step, runner: Runner, act: Callable[[], Outcome], *,
            completed_task: str | None = None, submitted: dict[str, Any] | None = None) -> Outcome | None:
    """Run `act` and everything it triggers; None when the incident failed and was put in error.

    Every started service task is queued in the outbox. Fire-and-forget ones are finished here, in the
    same transaction; 'wait' ones stay started until the outbox worker has delivered them.
    """
    data = dict(step.incident.get("data") or {})
    # The workflow runs first, in memory; only then is anything written, so a failure leaves no partial
    # rows behind and needs no savepoint.
    runner.begin()  # the transition's budgets (time, CPU, steps) count from here, across its service rounds
    try:
        outcomes = [act()]
        for _round in range(_MAX_SERVICE_ROUNDS):
            ready = [s for s in outcomes[-1].services if runner.mode_of(s) == "fire_and_forget"]
            if not ready:
                break
            outcomes.append(runner.finish_service(outcomes[-1].state, ready[0].task_id, {}))
    except IncidentFailed as err:
        save_failure(conn, step, str(err))
        return None
    finally:
        runner.end()
    for index, outcome in enumerate(outcomes):
        first = index == 0
        record_outcome(conn, step, outcome, completed_task=completed_task if first else None,
                       submitted=submitted if first else None, mode_of=runner.mode_of)
    data.update(outcomes[0].written)
    stalled = stall_reason(outcomes[-1])
    if stalled is not None:
        outcomes[-1].status, outcomes[-1].error = "stalled", stalled
    save_incident(conn, step, outcomes[-1], data=data)
    return outcomes[-1]

