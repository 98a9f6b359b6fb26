"""The isolated engine a scenario runs in: the engine's own services on a private in-memory database.

Each scenario gets a fresh SQLite database in memory holding one row, the version under test, and an
IncidentEngine over it that shares the live engine's parsed-spec cache and safe script engine. The
scenario then drives its incident through the same use cases as live incidents (start, complete with
form validation, timers fired by the timer service, outbox settlement, check overrides, cancellation),
so the runner, the check gateways, the timers table and the audit recording are the real ones; messages,
signals and external tasks go through the messages, signals and external-task services too. The clock
is a FixedClock that the scenario moves; nothing waits. Nothing touches the live database.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.pool import StaticPool

from engine import clock
from engine.bpmn.parser import load_procedure
from engine.db import deployment_rows, event_rows, incident_rows, procedure_rows, resource_rows, timer_rows
from engine.db.database import make_engine
from engine.db.tables import metadata
from engine.errors import EngineError
from engine.events.declarations import declarations
from engine.scenarios.runner import StepRefused

from . import audit, checks, incidents, messages, signals, tasks
from .engine_app import IncidentEngine
from .scenario_services import answer_service
from .timers import fire_due_timers

ACTOR = "scenario-test"
SUPERVISOR = "scenario-test:supervisor"


@contextmanager
def isolated_engine(live: IncidentEngine, procedure: dict[str, Any], bpmn: bytes) -> Iterator[IncidentEngine]:
    """An engine over a new in-memory database that holds this procedure version (same id and bytes), and
    the deployed decisions and forms (with their deployments) its business rule tasks and forms resolve."""
    db = make_engine("sqlite://", poolclass=StaticPool)
    try:
        metadata.create_all(db)
        settings = dataclasses.replace(live.settings, database_url="sqlite://", deploy_bundled=False)
        engine = IncidentEngine(settings, db=db)
        engine.specs, engine.script_engine = live.specs, live.script_engine
        with live.uow(write=False) as uow:  # the decisions and forms it may use, with their deployments
            resources = resource_rows.everything(uow.conn)
            wanted = {r["deployment_id"] for r in resources} | {procedure.get("deployment_id")}
            deployed = [d for d in (deployment_rows.get(uow.conn, i) for i in wanted if i) if d is not None]
        with engine.uow() as uow:
            for deployment in deployed:
                deployment_rows.insert(uow.conn, deployment)
            for resource in resources:
                resource_rows.insert(uow.conn, resource)
            row = {**{k: v for k, v in procedure.items() if k != "bpmn"}, "bpmn": bpmn}
            procedure_rows.insert(uow.conn, row)
            event_rows.declare(uow.conn, row, declarations(load_procedure(bpmn, process=procedure["key"])))
            uow.commit()
        yield engine
    finally:
        db.dispose()


def _refused(err: EngineError) -> StepRefused:
    return StepRefused(err.detail, [p.as_dict() for p in err.problems])


class EngineDriver:
    """Drives one incident of the version under test through the engine's services (see runner.Driver)."""

    def __init__(self, engine: IncidentEngine, procedure: dict[str, Any]) -> None:
        self.engine = engine
        self.procedure = procedure
        self.clock = clock.FixedClock()
        self.incident_id: str | None = None

    @contextmanager
    def clocked(self) -> Iterator[None]:
        token = clock.use(self.clock)
        try:
            yield
        finally:
            clock.reset(token)

    def now(self) -> datetime:
        return self.clock.now()

    def _id(self) -> str:
        if self.incident_id is None:
            raise StepRefused("the incident did not start")
        return self.incident_id

    def _view(self) -> dict[str, Any]:
        return incidents.get(self.engine, self._id())

    def start(self, data: dict[str, Any], at: datetime) -> None:
        self.clock.set(at)
        try:
            view, _ = incidents.start(self.engine, procedure=self.procedure["key"],  # drafts run as test incidents
                                      version=self.procedure["version"], data=data, actor=ACTOR, test=True)
        except EngineError as err:
            raise _refused(err) from None
        self.incident_id = view["id"]

    def _running(self) -> dict[str, Any]:
        view = self._view()
        if view["status"] != "running":
            reason = f": {view['error']}" if view.get("error") else ""
            raise StepRefused(f"the incident is {view['status']}{reason}")
        return view

    def complete(self, element_id: str, data: dict[str, Any]) -> None:
        view = self._running()
        found = [t for t in view["open_tasks"] if t["element_id"] == element_id]
        if not found:
            shown = ", ".join(t["element_id"] for t in view["open_tasks"]) or "none"
            raise StepRefused(f"{element_id} is not open (open tasks: {shown})")
        try:
            tasks.complete(self.engine, found[0]["id"], data, actor=ACTOR)
        except EngineError as err:
            raise _refused(err) from None

    def _fire(self, budget: int) -> int:
        rounds = 0
        while rounds < budget and fire_due_timers(self.engine):
            rounds += 1
        return rounds

    def wait(self, delta: timedelta, budget: int) -> int:
        self.clock.advance(delta)
        return self._fire(budget)

    def fire_timer(self, element_id: str, budget: int) -> int:
        self._running()
        with self.engine.uow(write=False) as uow:
            pending = [t for t in timer_rows.pending_for(uow.conn, self._id()).values() if t["element_id"] == element_id]
            armed = sorted({t["element_id"] for t in timer_rows.pending_for(uow.conn, self._id()).values()})
        if not pending:
            raise StepRefused(f"timer {element_id} is not armed (armed: {', '.join(armed) or 'none'})")
        due = min(t["due_at"] for t in pending)
        if due > self.clock.now():
            self.clock.set(due)
        return self._fire(budget)

    def service(self, element_id: str, outcome: str, data: dict[str, Any], code: str | None = None) -> None:
        self._running()
        try:
            answer_service(self.engine, self._id(), element_id, outcome, data, code)
        except EngineError as err:
            raise _refused(err) from None

    def override(self, check: str, reason: str) -> None:
        self._running()
        try:
            checks.override_check(self.engine, self._id(), check, reason=reason, actor=SUPERVISOR)
        except EngineError as err:
            raise _refused(err) from None

    def cancel(self, reason: str) -> None:
        try:
            incidents.cancel(self.engine, self._id(), reason=reason, actor=SUPERVISOR)
        except EngineError as err:
            raise _refused(err) from None

    def message(self, name: str, data: dict[str, Any], correlation: dict[str, Any]) -> None:
        self._running()
        try:
            messages.correlate(self.engine, name=name, correlation=correlation or None, variables=data or None,
                               actor=ACTOR)
        except EngineError as err:
            raise _refused(err) from None

    def signal(self, name: str, data: dict[str, Any]) -> None:
        self._running()
        try:
            signals.broadcast(self.engine, name=name, variables=data or None, actor=ACTOR)
        except EngineError as err:
            raise _refused(err) from None

    def status(self) -> tuple[str, tuple[str, ...], dict[str, Any], str | None]:
        view = self._view()
        return (view["status"], tuple(t["element_id"] for t in view["open_tasks"]),
                {**self._variables(), **dict(view.get("data") or {})}, view.get("error"))

    def _variables(self) -> dict[str, Any]:
        """The workflow's own variables (script results too), from its latest state."""
        with self.engine.uow(write=False) as uow:
            row = incident_rows.lock(uow.conn, self._id())
            assert row is not None
            runtime = self.engine.runtime_by_id(uow.conn, row["procedure_id"])
        workflow = self.engine.runner(runtime).load(row["state"])
        if workflow.is_completed():
            return dict(workflow.data)
        from SpiffWorkflow.util.task import TaskState

        # the data the incident's open work sees (finished history may be pruned from the state)
        merged: dict[str, Any] = {}
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING):
            merged.update(task.data)
        return merged

    def audit(self) -> list[dict[str, Any]]:
        if self.incident_id is None:
            return []
        return [_json_ready(r) for r in audit.for_incident(self.engine, self.incident_id)]

    def decisions(self) -> dict[str, dict[str, Any]]:
        """{business rule task id: the outputs of its last evaluation} from the `decision_evaluated` audit rows:
        one result's {output: value}, or {output: [values]} when several rules hit."""
        made: dict[str, dict[str, Any]] = {}
        for row in self.audit():
            if row.get("kind") != "decision_evaluated" or not row.get("element_id"):
                continue
            outputs = list((row.get("data") or {}).get("outputs") or [])
            names = list(dict.fromkeys(k for o in outputs for k in o))
            made[row["element_id"]] = outputs[0] if len(outputs) == 1 else {n: [o.get(n) for o in outputs]
                                                                          for n in names}
        return made


def _json_ready(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items() if k != "procedure_key"}
