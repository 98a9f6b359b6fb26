"""The periodic stall sweep: running incidents that nothing can move on become `stalled`, with the reason.

Every transition checks its own outcome (the runner applies engine.runtime.stall); the sweep applies the
same rule to the rest: incidents stuck before that check existed, or left so by anything else. Candidates come from one query (running, no ready
task, no pending timer); each is loaded and looked at in memory, and written only when it is stalled.
"""
from __future__ import annotations

import logging

from engine import clock
from engine.db import incident_rows
from engine.runtime.runner import IncidentFailed
from engine.runtime.stall import stall_reason

from .engine_app import IncidentEngine
from .recording import Step, save_stalled
from .timers import _guard

log = logging.getLogger("incident_engine.stalls")
ACTOR = "system:stalls"


def sweep(engine: IncidentEngine, *, limit: int = 100) -> int:
    """Mark stalled every idle running incident that waits on nothing; returns how many were marked."""
    with engine.uow(write=False) as uow:
        candidates = incident_rows.idle_running(uow.conn, limit)
    marked = 0
    for incident_id in candidates:
        with _guard(engine), engine.uow() as uow:
            incident = incident_rows.lock(uow.conn, incident_id)
            if incident is None or incident["status"] != "running":
                continue
            runtime = engine.runtime_by_id(uow.conn, incident["procedure_id"])
            if runtime.calls_other_files:
                continue  # it may be waiting for a child incident, which its own rows do not show
            try:
                outcome = engine.runner(runtime).fire_timers(incident["state"])  # in memory: nothing is saved
                reason = stall_reason(outcome)
            except IncidentFailed as err:  # the runner cannot even take the step: nothing can move it on
                reason = str(err)
            except LookupError:
                continue
            if reason is None:
                continue
            save_stalled(uow.conn, Step(incident, runtime, ACTOR, clock.now()), reason)
            uow.commit()
            marked += 1
            log.warning("incident %s is stalled: %s", incident_id, reason)
    return marked
