"""One transition end to end: run the workflow, settle fire-and-forget service tasks, record everything."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from engine.runtime.runner import IncidentFailed, Outcome, Runner

from . import calls
from .decisions import settle_business_rule
from .personal_sync import keep_personal
from .recording import Step, record_outcome, save_failure, save_incident

_MAX_SERVICE_ROUNDS = 100
_SETTLED_HERE = ("fire_and_forget", "decision")


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
    decided: dict[int, dict[str, Any]] = {}  # outcome index -> the decision_evaluated audit before it
    try:
        outcomes = [act()]
        for _round in range(_MAX_SERVICE_ROUNDS):
            ready = [s for s in outcomes[-1].services if runner.mode_of(s) in _SETTLED_HERE]
            if not ready:
                break
            values: dict[str, Any] = {}
            if runner.mode_of(ready[0]) == "decision":
                values, decided[len(outcomes)] = settle_business_rule(conn, step, ready[0])
            outcomes.append(runner.finish_service(outcomes[-1].state, ready[0].task_id, values))
    except IncidentFailed as err:
        save_failure(conn, step, str(err))
        if step.incident.get("parent_incident_id"):
            calls.child_failed(conn, step, runner, str(err))
        return None
    finally:
        runner.end()
    for index, outcome in enumerate(outcomes):
        if index in decided:
            audit = decided[index]
            step.event("decision_evaluated", audit.pop("data"), **audit)
        first = index == 0
        record_outcome(conn, step, outcome, completed_task=completed_task if first else None,
                       submitted=submitted if first else None, mode_of=runner.mode_of)
    for outcome in outcomes:  # what was submitted, and what a business rule task decided
        data.update(outcome.written)
    keep_personal(conn, step, outcomes)
    # an incident whose call activities start children now: its audit goes in with their call_started rows
    hold = runner.procedure.calls_other_files and not step.incident.get("parent_incident_id") and any(
        runner.mode_of(s) == "call" for s in outcomes[-1].services)
    save_incident(conn, step, outcomes[-1], data=data, hold_audit=hold)
    interrupted = False
    if runner.procedure.calls_other_files:
        calls.cancel_interrupted(conn, step, runner, outcomes)
    if step.incident.get("parent_incident_id") and any(o.raised for o in outcomes):
        interrupted = any(calls.child_raised(conn, step, runner, o) for o in outcomes if o.raised)
    changed = interrupted  # its parent's catch may have cancelled it
    if interrupted:
        pass
    elif outcomes[-1].status == "completed" and step.incident.get("parent_incident_id"):
        calls.child_completed(conn, step, runner, outcomes[-1])
    elif outcomes[-1].status == "stalled" and step.incident.get("parent_incident_id"):
        calls.child_stalled(conn, step, runner, outcomes[-1].error or "")
    elif runner.procedure.calls_other_files:
        changed = calls.start_children(conn, step, runner, outcomes[-1])
    if hold:
        calls.flush_audit(conn, step)  # whatever start_children did not append yet
    if changed or (runner.procedure.calls_other_files and step.children is None):
        step.saved = step.open_rows = None  # callers read its view anew
    return outcomes[-1]

