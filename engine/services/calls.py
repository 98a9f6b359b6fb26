"""Call activities across files: the called process runs as a child incident, in the caller's transaction.

A child has its own state, tasks and audit (linked by parent_incident_id / parent_task_id). It is started
right after the transition that reached the call activity is saved; when it completes (then or in a later
transition) the parent's call activity completes with the camunda:out variables, in the same transaction.
A child that fails puts its parent in error with the reason, a child that stalls stalls its parent; cancelling
a parent cancels its children.
A call chain deeper than CALL_DEPTH_LIMIT, or calling a procedure already in the chain, fails the caller.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from engine.bpmn.model import CallDef
from engine.db import audit_rows, deployment_rows, incident_rows, procedure_rows
from engine.errors import EngineError
from engine.runtime.runner import IncidentFailed, Outcome, Runner, StartedService

from .recording import Step, save_failure, save_stalled


def _evaluate(runner: Runner, text: str, data: Mapping[str, Any]) -> Any:
    return runner.script_engine.environment.evaluate(text, dict(data))


def mapped(runner: Runner, mappings: tuple[tuple[str, str, str, bool], ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """camunda:in/out applied to `data`: all variables, one by name, or an expression's value."""
    out: dict[str, Any] = {}
    for kind, source, target, _local in mappings:
        if kind == "all":
            out.update(data)
        elif kind == "source":
            out[target] = data.get(source)
        else:
            out[target] = _evaluate(runner, source, data)
    return out


def _chain(conn: Connection, incident: Mapping[str, Any]) -> list[str]:
    """The procedure keys from this incident up to the root of its call chain."""
    keys, parent_id = [incident["procedure_key"]], incident.get("parent_incident_id")
    while parent_id and len(keys) <= 100:
        parent = incident_rows.get(conn, parent_id)
        if parent is None:
            break
        keys.append(parent["procedure_key"])
        parent_id = parent.get("parent_incident_id")
    return keys


def _version(conn: Connection, step: Step, call: CallDef) -> dict[str, Any]:
    from .incidents import runnable_version

    test = bool(step.incident.get("test"))
    number = call.version if call.binding == "version" else None
    if call.binding == "versionTag":
        tagged = procedure_rows.find(conn, call.key, version_tag=call.version_tag)
        number = tagged["version"] if tagged else -1
    elif call.binding == "deployment":
        own = procedure_rows.get_by_id(conn, step.runtime.id)
        deployment = deployment_rows.get(conn, own["deployment_id"]) if own and own.get("deployment_id") else None
        listed = next((r for r in (deployment or {}).get("resources", [])
                       if r["kind"] == "process" and r["key"] == call.key), None)
        number = listed["version"] if listed else -1
    try:
        return runnable_version(conn, call.key, number, test)
    except EngineError as err:
        raise IncidentFailed(f"the called process {call.key} ({call.binding}) cannot start: {err.detail}") from None


def _start_child(conn: Connection, step: Step, runner: Runner, service: StartedService,
                 incident: dict[str, Any]) -> Step:
    """Start the child of one call activity; the child's Step (its incident row saved)."""
    from .advance import advance
    from .incidents import plain_start

    engine = runner.engine
    call = step.runtime.definition.nodes[service.element_id].call
    assert call is not None and engine is not None
    chain = _chain(conn, incident)
    if call.key in chain:
        raise IncidentFailed(f"call activity {service.element_id}: a call cycle "
                             f"({' -> '.join([*reversed(chain), call.key])})")
    if len(chain) + 1 > engine.settings.call_depth_limit:
        raise IncidentFailed(f"call activity {service.element_id}: the call chain would be deeper than "
                             f"{engine.settings.call_depth_limit} (CALL_DEPTH_LIMIT)")
    proc = _version(conn, step, call)
    data = mapped(runner, call.inputs, service.data)
    reference = str(_evaluate(runner, call.business_key, service.data)) if call.business_key else None
    if reference and incident_rows.by_reference(conn, proc["key"], reference) is not None:
        raise IncidentFailed(f"call activity {service.element_id}: business key {reference!r} is taken in {proc['key']}")
    runtime = engine.runtime(proc)
    child_runner = engine.runner(runtime)
    row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": proc["key"],
           "procedure_version": proc["version"], "reference": reference, "status": "running", "data": data,
           "state": child_runner.initial_state(data), "row_version": 1, "created_at": step.at,
           "updated_at": step.at, "created_by": step.actor, "test": bool(incident.get("test")),
           "parent_incident_id": incident["id"], "parent_task_id": service.task_id}
    incident_rows.insert(conn, row)
    child = Step(row, runtime, step.actor, step.at)
    child.event("incident_started", {"parent_incident_id": incident["id"], "call_activity": service.element_id,
                                     "data": data}, to_state="running")
    note = Step(incident, step.runtime, step.actor, step.at)
    note.event("call_started", {"child_incident_id": row["id"], "procedure": proc["key"], "version": proc["version"]},
               task_id=service.task_id, element_id=service.element_id, element_type="callActivity")
    audit_rows.append(conn, note.audit)
    begin = plain_start(runtime.definition)
    advance(conn, child, child_runner, lambda: child_runner.start(
        data, start_event=begin.element_id if begin else None, start_kind=begin.kind if begin else "none"))
    return child


def start_children(conn: Connection, step: Step, runner: Runner, outcome: Outcome) -> bool:
    """After a saved transition: start a child for every call activity that has just started. True when the
    incident changed again meanwhile (a child that ended at once resumed or failed it): re-read its view."""
    calls = [s for s in outcome.services if runner.mode_of(s) == "call"]
    if not calls or outcome.status != "running":
        return False
    saved_version = (step.saved or {}).get("row_version")
    for service in calls:
        incident = incident_rows.get(conn, step.incident["id"])
        assert incident is not None
        if incident["status"] != "running":
            break
        if any(c["parent_task_id"] == service.task_id for c in incident_rows.children(conn, incident["id"])):
            continue  # its child runs already (started earlier, or by a resumption just now)
        try:
            _start_child(conn, step, runner, service, incident)
        except IncidentFailed as err:
            locked = incident_rows.lock(conn, incident["id"])
            assert locked is not None
            failing = Step(locked, step.runtime, step.actor, step.at)
            save_failure(conn, failing, str(err))
            if locked.get("parent_incident_id"):
                child_failed(conn, failing, runner, str(err))
            break
    now = incident_rows.get(conn, step.incident["id"])
    return now is not None and now["row_version"] != saved_version


def child_completed(conn: Connection, child: Step, runner: Runner, outcome: Outcome) -> None:
    """A child ended: its parent's call activity completes with the camunda:out variables."""
    from .advance import advance

    parent = incident_rows.lock(conn, child.incident["parent_incident_id"])
    engine = runner.engine
    if parent is None or parent["status"] != "running" or engine is None:
        return
    runtime = engine.runtime_by_id(conn, parent["procedure_id"])
    parent_runner = engine.runner(runtime)
    task_id = str(child.incident["parent_task_id"])
    workflow = parent_runner.load(parent["state"])
    task = workflow.get_task_from_id(UUID(task_id))
    call = runtime.definition.nodes[task.task_spec.bpmn_id].call
    assert call is not None
    final = dict(runner.load(outcome.state).data)
    values = mapped(parent_runner, call.outputs, final)
    step = Step(parent, runtime, child.actor, child.at)
    step.event("call_completed", {"child_incident_id": child.incident["id"], "variables": sorted(values)},
               task_id=task_id, element_id=task.task_spec.bpmn_id, element_type="callActivity")
    advance(conn, step, parent_runner, lambda: parent_runner.finish_service(parent["state"], task_id, values))


def child_failed(conn: Connection, child: Step, runner: Runner, reason: str) -> None:
    """A child went to error: the parent's call activity is in error too, with the child's reason."""
    parent = incident_rows.lock(conn, child.incident["parent_incident_id"])
    if parent is None or parent["status"] != "running" or runner.engine is None:
        return
    runtime = runner.engine.runtime_by_id(conn, parent["procedure_id"])
    step = Step(parent, runtime, child.actor, child.at)
    save_failure(conn, step, f"called process {child.runtime.key} (incident {child.incident['id']}) failed: {reason}")
    if parent.get("parent_incident_id"):
        child_failed(conn, step, runner, f"called process {child.runtime.key} failed: {reason}")


def child_stalled(conn: Connection, child: Step, runner: Runner, reason: str) -> None:
    """A child stalled: its parent waits on it and so on nothing that can move; the parent is stalled too."""
    parent = incident_rows.lock(conn, child.incident["parent_incident_id"])
    if parent is None or parent["status"] != "running" or runner.engine is None:
        return
    runtime = runner.engine.runtime_by_id(conn, parent["procedure_id"])
    step = Step(parent, runtime, child.actor, child.at)
    save_stalled(conn, step, f"called process {child.runtime.key} (incident {child.incident['id']}) is stalled: "
                             f"{reason}")
    if parent.get("parent_incident_id"):
        child_stalled(conn, step, runner, f"called process {child.runtime.key} is stalled: {reason}")


def cancel_children(conn: Connection, engine: Any, incident_id: str, actor: str | None, at: Any, reason: str) -> None:
    """Cancel every running, failed or stalled child of an incident (and theirs), as a cancelled parent's work."""
    from .recording import record_outcome, save_incident

    for child in incident_rows.children(conn, incident_id):
        if child["status"] not in ("running", "error", "stalled"):
            continue
        locked = incident_rows.lock(conn, child["id"])
        assert locked is not None
        runtime = engine.runtime_by_id(conn, locked["procedure_id"])
        outcome = engine.runner(runtime).cancel(locked["state"])
        step = Step(locked, runtime, actor, at)
        step.event("incident_cancelled", {"reason": reason, "parent_incident_id": incident_id},
                   from_state=locked["status"], to_state="cancelled")
        record_outcome(conn, step, outcome)
        save_incident(conn, step, outcome, data=locked["data"])
        cancel_children(conn, engine, child["id"], actor, at, reason)
