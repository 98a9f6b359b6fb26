"""Use cases: conditional start events (Camunda's `POST /condition`) and variables set on a running incident.

- `evaluate_starts`: with the given variables, the condition of every conditional start event of every
  active procedure version is evaluated (by the safe evaluator); each one that is true starts an incident
  there, with those variables as its data (Camunda's ConditionEvaluationBuilder.evaluateStartConditions).
  No active procedure with a conditional start event at all is NotFound, as Camunda's "no subscriptions
  were found"; none true is an empty list. A condition that cannot be evaluated (a wrong type) counts as
  false and is named in `skipped`, never a 5xx.
- `set_variables`: variables set on a running incident from outside (Camunda's
  `POST /process-instance/{id}/variables`): one transition, audited as `variables_set`; every waiting
  conditional event that listens to them is evaluated (engine.runtime.conditions).
"""
from __future__ import annotations

from typing import Any

from engine import clock
from engine.db import event_rows, incident_rows
from engine.errors import Conflict, Invalid, NotFound, Problem
from engine.events.correlation import check_variables
from engine.events.declarations import CONDITION
from engine.events.triggers import Trigger
from engine.identity import policy
from engine.identity.principal import Principal

from . import incidents
from .advance import advance
from .engine_app import IncidentEngine
from .recording import Step


def _condition_of(runtime: Any, element_id: str) -> str | None:
    start = next((s for s in runtime.spec.bpmn_start_events if s.bpmn_id == element_id), None)
    return getattr(start.event_definition, "expression", None) if start is not None else None


def evaluate_starts(engine: IncidentEngine, *, variables: Any = None, procedure: Any = None, reference: Any = None,
                    procedure_id: str | None = None, actor: str | None = None,
                    principal: Principal | None = None) -> dict[str, Any]:
    """Start an incident at every conditional start event whose condition is true for `variables`;
    returns {"started": [{incident, procedure, element_id}], "skipped": [{procedure, element_id, reason}]}.

    `procedure` narrows it to one procedure key, `procedure_id` to one version (Camunda's processDefinitionId).
    Raises Invalid (bad variables, procedure or reference),
    NotFound (no active procedure has a conditional start event).
    """
    policy.require(principal, "conditions.evaluate")
    if principal is not None:
        actor = principal.user_id
    values = check_variables(variables)
    if procedure is not None and (not isinstance(procedure, str) or not procedure.strip()):
        raise Invalid("procedure must be a procedure key", [Problem("expected a string", field="procedure")])
    if reference is not None and (not isinstance(reference, str) or not 0 < len(reference) <= 255):
        raise Invalid("reference must be a text of 1 to 255 characters", [Problem("bad reference", field="reference")])
    with engine.uow() as uow:
        starts = [s for s in event_rows.active_starts(uow.conn, CONDITION)
                  if (procedure is None or s["procedure_key"] == procedure)
                  and (procedure_id is None or s["procedure_id"] == procedure_id)]
        if not starts:
            raise NotFound("no active procedure has a conditional start event"
                           + (f" (procedure {procedure!r})" if procedure else ""))
        runtimes = {s["procedure_id"]: engine.runtime_by_id(uow.conn, s["procedure_id"]) for s in starts}
    chosen, skipped = [], []
    for start in starts:
        runtime = runtimes[start["procedure_id"]]
        expression = _condition_of(runtime, start["element_id"]) or ""
        try:
            true = engine.runner(runtime).script_engine.environment.evaluate(expression, dict(values)) is True
        except Exception as err:  # noqa: BLE001 - a condition that cannot be worked out is false, and named
            skipped.append({"procedure": start["procedure_key"], "element_id": start["element_id"],
                            "reason": f"the condition {expression!r} could not be evaluated: {err}"})
            continue
        if true:
            chosen.append(start)
    started = []
    for start in chosen:
        view, created = incidents.start(engine, procedure=start["procedure_key"], version=start["procedure_version"],
                                        reference=reference, data=values, actor=actor,
                                        trigger=Trigger("conditional", start["element_id"]))
        if not created:
            raise Conflict(f"an incident with reference {reference!r} already exists on procedure "
                           f"{start['procedure_key']!r}", incident=view["id"])
        started.append({"incident": incidents.visible_view(view, principal), "procedure": start["procedure_key"],
                        "element_id": start["element_id"]})
    return {"started": started, "skipped": skipped}


def set_variables(engine: IncidentEngine, incident_id: str, *, variables: Any, actor: str | None = None,
                  principal: Principal | None = None) -> dict[str, Any]:
    """Set variables on a running incident; returns the incident. Raises Invalid (bad variables), NotFound
    (no such incident, or not one the caller may reach), Conflict (it is not running)."""
    policy.require(principal, "incidents.variables")
    if principal is not None:
        actor = principal.user_id
    values = check_variables(variables)
    if not values:
        raise Invalid("variables must name at least one variable", [Problem("empty", field="variables")])
    scope = policy.correlation_scope(principal)
    with engine.uow() as uow:
        incident = incident_rows.lock(uow.conn, incident_id)
        if incident is None or (scope is not None and not incident_rows.is_visible(uow.conn, incident_id, scope)):
            raise NotFound(f"no incident {incident_id}")
        if incident["status"] != "running":
            raise Conflict(f"the incident is {incident['status']}, not running: its variables are not set",
                           incident_status=incident["status"])
        runtime = engine.runtime_by_id(uow.conn, incident["procedure_id"])
        runner = engine.runner(runtime)
        step = Step(incident, runtime, actor, clock.now())
        step.event("variables_set", {"variables": values})
        advance(uow.conn, step, runner, lambda: runner.set_variables(incident["state"], values))
        view = incidents.visible_view(step.view() or incidents.view(uow.conn, incident_id), principal)
        uow.commit()
    return view
