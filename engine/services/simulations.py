"""Use cases for the what-if simulation of a procedure version: request one, run it, read it, attach it.

A request is checked at once (a simulation with no history and nothing declared is a 422 saying what is
missing) and stored as `queued`; a Celery worker (`workers.run_simulation`, queued by beat) or, on the
embedded default, the in-process scheduler runs it. The history is the active version's live incidents in
the window (arrivals per hour, task work times and gateway choices from the audit trail); declared
distributions stand in for a new procedure or override history element by element. A finished
simulation can be attached to the version as approval evidence beside its fitness test.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from engine import clock
from engine.calendar import parse_signed_duration
from engine.db import criteria_rows, governance_rows, procedure_rows, simulation_rows
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.expressions.interpreter import evaluate
from engine.expressions.limits import ExpressionError
from engine.identity import policy
from engine.identity.principal import Principal
from engine.simulation.assemble import assemble
from engine.simulation.history import History, read_history
from engine.simulation.inputs import Inputs
from engine.simulation.model import TimerSeconds
from engine.simulation.run import simulate

from .engine_app import IncidentEngine
from .governance import locked_version, simulation_summary, version_row

log = logging.getLogger("incident_engine.simulations")
LEASE = timedelta(minutes=15)
MAX_DAYS = 366


def _window(body: dict[str, Any]) -> tuple[datetime, datetime]:
    until = body.get("until") or clock.now()
    since = body.get("since") or until - timedelta(days=int(body.get("days") or 30))
    if since >= until:
        raise Invalid("the window is empty", [Problem("since must be before until", field="since")])
    if until - since > timedelta(days=MAX_DAYS):
        raise Invalid(f"the window is longer than {MAX_DAYS} days", [Problem("too long", field="since")])
    return since, until


def _history(conn: Any, key: str, since: datetime, until: datetime, node_types: dict[str, str],
             hours: int) -> tuple[History | None, int | None]:
    """The active version's window of history (None when no version is active), and that version."""
    active = governance_rows.active(conn, key)
    if active is None:
        return None, None
    rows = simulation_rows.history(conn, key, active["version"], since, until)
    for row in rows:
        row["at"] = (row["at"] - since).total_seconds()
    return read_history(rows, hours, node_types), int(active["version"])


def _inputs(engine: IncidentEngine, proc: dict[str, Any], body: dict[str, Any]) -> tuple[Inputs, dict[str, Any]]:
    definition = engine.runtime(proc).definition
    since, until = _window(body)
    hours = max(1, int((until - since).total_seconds() // 3600))
    history, replayed = None, None
    if body.get("history", True) is not False:  # `history: false` simulates the declared figures alone
        with engine.uow(write=False) as uow:
            history, replayed = _history(uow.conn, proc["key"], since, until,
                                         {n.id: n.type for n in definition.nodes.values()}, hours)
    inputs = assemble(definition, history, body, hours)
    return inputs, {"since": since.isoformat(), "until": until.isoformat(), "hours": hours,
                    "history_version": replayed, "history_incidents": history.incidents if history else 0}


def request(engine: IncidentEngine, key: str, number: int, body: dict[str, Any], *, actor: str | None = None,
            principal: Principal | None = None) -> dict[str, Any]:
    """Check and queue a simulation of the version; Invalid (422) names every input that is missing."""
    policy.require(principal, "simulations.run")
    if principal is not None:
        actor = principal.user_id
    with engine.uow(write=False) as uow:
        proc = version_row(uow.conn, key, number)
    checked, window = _inputs(engine, proc, body)
    parameters = {**{k: v for k, v in body.items() if k not in ("since", "until")}, **window}
    row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": key, "procedure_version": number,
           "sha256": proc["sha256"], "status": "queued", "parameters": parameters,
           "progress": {"phase": "queued", "replications_done": 0, "replications": checked.replications},
           "attached": False, "created_by": actor, "created_at": clock.now()}
    with engine.uow() as uow:
        simulation_rows.insert(uow.conn, row)
        uow.commit()
    return view(row)


def view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("procedure_id", "lease_until")}


def _timer_seconds(engine: IncidentEngine, definition: Any, since: datetime) -> TimerSeconds:
    """A timer's duration for one simulated incident: its expression evaluated over the incident's start data
    at the simulated moment, by the same safe evaluator and calendar as live timers."""
    functions = engine.script_engine.functions

    def seconds(element_id: str, data: dict[str, Any], now_offset: float) -> float | None:
        node = definition.nodes.get(element_id)
        if node is None or node.timer is None:
            return None
        now = since + timedelta(seconds=now_offset)
        token = clock.use(clock.FixedClock(now))
        try:
            value = evaluate(node.timer.expression, data, functions, missing_as_none=True)
            deadline = parse_signed_duration(str(value), now)
        except (ExpressionError, ValueError, TypeError):
            return None
        finally:
            clock.reset(token)
        return (deadline - now).total_seconds()

    return seconds


def _criteria(conn: Any, proc: dict[str, Any]) -> list[dict[str, Any]]:
    """The agreed criteria the version answers to: those of its procedure key and of the objectives it serves."""
    from engine.db import strategy_rows

    objectives = {o["id"] for o in strategy_rows.objectives_of(conn, proc["id"])}
    found = {c["id"]: c for c in criteria_rows.listing(conn, procedure=proc["key"])}
    for objective in objectives:
        for criterion in criteria_rows.listing(conn, objective=objective):
            if criterion.get("procedure_key") in (None, proc["key"]):
                found.setdefault(criterion["id"], criterion)
    return list(found.values())


def run(engine: IncidentEngine, simulation_id: str) -> dict[str, Any]:
    """Run a queued simulation to the end and store its prediction; one taken by another runner is left alone."""
    now = clock.now()
    with engine.uow() as uow:
        row = simulation_rows.get(uow.conn, simulation_id)
        if row is None:
            raise NotFound(f"no simulation {simulation_id}")
        if not simulation_rows.start(uow.conn, simulation_id, now, now + LEASE):
            return view(row)
        proc = procedure_rows.get_by_id(uow.conn, row["procedure_id"])
        criteria = _criteria(uow.conn, proc) if proc else []
        uow.commit()
    assert proc is not None
    try:
        parameters = dict(row["parameters"])
        body = {**parameters, "since": datetime.fromisoformat(parameters["since"]),
                "until": datetime.fromisoformat(parameters["until"])}
        inputs, _window_ = _inputs(engine, proc, body)
        definition = engine.runtime(proc).definition

        def progress(done: int, total: int) -> None:
            at = clock.now()
            with engine.uow() as uow:
                simulation_rows.update(uow.conn, simulation_id, {
                    "progress": {"phase": "simulating", "replications_done": done, "replications": total},
                    "lease_until": at + LEASE})
                uow.commit()

        settings = engine.settings
        report = simulate(definition, inputs, _timer_seconds(engine, definition, body["since"]), criteria,
                          margin=settings.monitoring_margin, min_sample=settings.monitoring_min_sample,
                          loop_cap=settings.loop_cap, progress=progress)
        outcome = {"status": "done", "report": report, "progress": {
            "phase": "done", "replications_done": inputs.replications, "replications": inputs.replications}}
    except Exception as err:  # noqa: BLE001 - any fault ends the simulation as an error with its reason
        log.exception("simulation %s failed", simulation_id)
        outcome = {"status": "error", "error": f"{type(err).__name__}: {err}", "progress": {"phase": "error"}}
    with engine.uow() as uow:
        simulation_rows.update(uow.conn, simulation_id, {**outcome, "finished_at": clock.now(), "lease_until": None})
        final = simulation_rows.get(uow.conn, simulation_id)
        uow.commit()
    assert final is not None
    return view(final)


def run_queued(engine: IncidentEngine, *, limit: int = 1) -> int:
    """Run up to `limit` queued simulations here (the in-process scheduler's tick); how many ran."""
    with engine.uow(write=False) as uow:
        ids = simulation_rows.runnable_ids(uow.conn, clock.now(), limit=limit)
    for simulation_id in ids:
        run(engine, simulation_id)
    return len(ids)


def runnable(engine: IncidentEngine, *, limit: int = 10) -> list[str]:
    """Ids of simulations waiting for a runner (for beat to queue on Celery)."""
    with engine.uow(write=False) as uow:
        return simulation_rows.runnable_ids(uow.conn, clock.now(), limit=limit)


def get(engine: IncidentEngine, key: str, number: int, simulation_id: str, *,
        principal: Principal | None = None) -> dict[str, Any]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        found = simulation_rows.get(uow.conn, simulation_id)
    if found is None or (found["procedure_key"], found["procedure_version"]) != (key, number):
        raise NotFound(f"version {number} of {key} has no simulation {simulation_id}")
    return view(found)


def page(engine: IncidentEngine, key: str, number: int, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        return [view(r) for r in simulation_rows.for_procedure(uow.conn, version_row(uow.conn, key, number)["id"])]


def attach(engine: IncidentEngine, key: str, number: int, simulation_id: str, *, actor: str | None = None,
           principal: Principal | None = None) -> dict[str, Any]:
    """Attach a finished simulation of these exact bytes to the version as approval evidence."""
    policy.require(principal, "procedures.govern")
    if principal is not None:
        actor = principal.user_id
    with engine.uow() as uow:
        proc = locked_version(uow.conn, key, number)
        found = simulation_rows.get(uow.conn, simulation_id)
        if found is None or found["procedure_id"] != proc["id"]:
            raise NotFound(f"version {number} of {key} has no simulation {simulation_id}")
        if found["status"] != "done":
            raise Conflict(f"the simulation is {found['status']}; only a finished one is evidence",
                           simulation_status=found["status"])
        if proc["status"] not in ("draft", "in_review", "tested"):
            raise Conflict(f"the version is {proc['status']}; evidence is attached before approval",
                           current_status=proc["status"])
        if not found["attached"]:
            simulation_rows.update(uow.conn, simulation_id, {"attached": True})
            governance_rows.append_event(uow.conn, {
                "procedure_id": proc["id"], "procedure_key": key, "procedure_version": number,
                "action": "simulation_attached", "from_status": proc["status"], "to_status": proc["status"],
                "actor": actor, "at": clock.now(), "data": {"simulation": simulation_id, "summary": simulation_summary(found)}})
        final = simulation_rows.get(uow.conn, simulation_id)
        uow.commit()
    assert final is not None
    return view(final)

