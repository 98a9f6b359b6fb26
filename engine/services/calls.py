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
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Connection

from engine.bpmn.model import CallDef
from engine.db import audit_rows, deployment_rows, incident_rows, procedure_rows
from engine.errors import EngineError
from engine.runtime.runner import IncidentFailed, Outcome, Runner, StartedService

from .recording import Step, save_failure, save_stalled


def _evaluate(runner: Runner, text: str, data: Mapping[str, Any]) -> Any:
    return runner.script_engine.environment.evaluate(text, dict(data))


def mapped(runner: Runner, mappings: tuple[tuple[str, str, str, bool], ...], data: Mapping[str, Any],
           local_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """camunda:in applied to `data`: all variables, one by name, or an expression's value. With
    local="true" only the call activity's own variables (`local_names`, its camunda:inputParameter) are read."""
    own = {name: data[name] for name in local_names if name in data}
    out: dict[str, Any] = {}
    for kind, source, target, local in mappings:
        if kind == "all":
            out.update(own if local else data)
        elif kind == "source":
            out[target] = (own if local else data).get(source)
        else:  # local with a sourceExpression is refused at deploy
            out[target] = _evaluate(runner, source, data)
    return out


def mapped_out(runner: Runner, mappings: tuple[tuple[str, str, str, bool], ...],
               data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """camunda:out applied to the child's variables: (for the parent's scope, local to the call activity).
    Local ones are seen by the call activity's camunda:outputParameter only (Camunda's setVariablesLocal)."""
    shared: dict[str, Any] = {}
    own: dict[str, Any] = {}
    for kind, source, target, local in mappings:
        into = own if local else shared
        if kind == "all":
            into.update(data)
        elif kind == "source":
            into[target] = data.get(source)
        else:
            into[target] = _evaluate(runner, source, data)
    return shared, own


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
    data = mapped(runner, call.inputs, service.data, call.local_names)
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
    child = Step(row, runtime, step.actor, step.at, open_rows={}, children=[])  # new: no tasks, no children
    child.event("incident_started", {"parent_incident_id": incident["id"], "call_activity": service.element_id,
                                     "data": data}, to_state="running")
    step.event("call_started", {"child_incident_id": row["id"], "procedure": proc["key"], "version": proc["version"]},
               task_id=service.task_id, element_id=service.element_id, element_type="callActivity")
    flush_audit(conn, step)  # the parent's rows so far (its held transition and this), before the child runs
    begin = plain_start(runtime.definition)
    advance(conn, child, child_runner, lambda: child_runner.start(
        data, start_event=begin.element_id if begin else None, start_kind=begin.kind if begin else "none"))
    return child


def flush_audit(conn: Connection, step: Step) -> None:
    """Append the step's audit rows not in the database yet (recording.save_incident's hold_audit, and
    call_started rows)."""
    audit_rows.append(conn, step.audit[step.appended:])
    step.appended = len(step.audit)


def start_children(conn: Connection, step: Step, runner: Runner, outcome: Outcome) -> bool:
    """After a saved transition: start a child for every call activity that has just started, and leave the
    incident's children in `step.children`. True when the incident changed again meanwhile (a child that
    ended at once resumed or failed it): its view must be read anew."""
    incident_id = step.incident["id"]
    if step.children is None:
        step.children = incident_rows.children(conn, incident_id)
    calls = [s for s in outcome.services if runner.mode_of(s) == "call"]
    if not calls or outcome.status != "running":
        return False
    saved_version = (step.saved or {}).get("row_version", step.incident["row_version"])
    incident: dict[str, Any] | None = step.incident
    for service in calls:
        changed = incident_rows.written_since(conn, incident_id, saved_version)
        if changed:
            incident = incident_rows.get(conn, incident_id)
        assert incident is not None
        if incident["status"] != "running":
            break
        if any(c["parent_task_id"] == service.task_id for c in step.children):
            continue  # its child runs already (started earlier, or by a resumption just now)
        try:
            child = _start_child(conn, step, runner, service, incident)
        except IncidentFailed as err:
            flush_audit(conn, step)
            locked = incident_rows.lock(conn, incident_id)
            assert locked is not None
            failing = Step(locked, step.runtime, step.actor, step.at)
            save_failure(conn, failing, str(err))
            if locked.get("parent_incident_id"):
                child_failed(conn, failing, runner, str(err))
            break
        step.children.append({**child.incident, **(child.saved or {})})
    return incident_rows.written_since(conn, incident_id, saved_version)


def _waiting_call(conn: Connection, runner: Runner, child: Mapping[str, Any]) -> _Caller | None:
    """The running parent of `child`, locked, with its call activity still waiting on it (else None)."""
    parent = incident_rows.lock(conn, child["parent_incident_id"])
    engine = runner.engine
    if parent is None or parent["status"] != "running" or engine is None:
        return None
    runtime = engine.runtime_by_id(conn, parent["procedure_id"])
    parent_runner = engine.runner(runtime)
    task_id = str(child["parent_task_id"])
    workflow = parent_runner.load(parent["state"])
    task = parent_runner._task(workflow, task_id)
    if task is None or task.state != TaskState.STARTED:
        return None  # an interrupting boundary event took the call activity away meanwhile
    call = runtime.definition.nodes[task.task_spec.bpmn_id].call
    assert call is not None
    # the workflow was loaded above: let the step that follows take it instead of parsing the state again
    parent_runner._last = (parent["state"], workflow)
    return _Caller(parent, runtime, parent_runner, task_id, task.task_spec.bpmn_id, call, dict(task.data))


@dataclass
class _Caller:
    incident: dict[str, Any]
    runtime: Any
    runner: Runner
    task_id: str
    element_id: str
    call: CallDef
    sees: dict[str, Any]  # the variables the call activity sees


def child_completed(conn: Connection, child: Step, runner: Runner, outcome: Outcome) -> None:
    """A child ended: its parent's call activity completes with the camunda:out variables."""
    from .advance import advance

    caller = _waiting_call(conn, runner, child.incident)
    if caller is None:
        return
    final = dict(runner.load(outcome.state).data)
    values, local = mapped_out(caller.runner, caller.call.outputs, final)
    step = Step(caller.incident, caller.runtime, child.actor, child.at)
    step.event("call_completed", {"child_incident_id": child.incident["id"], "variables": sorted(values),
                                  **({"local_variables": sorted(local)} if local else {})},
               task_id=caller.task_id, element_id=caller.element_id, element_type="callActivity")
    state, task_id, parent_runner = caller.incident["state"], caller.task_id, caller.runner
    advance(conn, step, parent_runner, lambda: parent_runner.finish_service(state, task_id, values, local))


def child_raised(conn: Connection, child: Step, runner: Runner, outcome: Outcome) -> bool:
    """The child's errors and escalations that nothing in it caught go to its parent's call activity (its
    boundary events, else the parent's enclosing scopes, else the parent's own caller), in this transaction,
    with the camunda:out variables as Camunda propagates them. True when a catch interrupted the call activity
    (the child is then cancelled if it still runs, and its completion does not resume the parent).
    Caught nowhere: nothing happens (the child's end event acts as a none end event, as in Camunda 7)."""
    for raised in outcome.raised:
        if _propagate(conn, child, runner, raised.kind, raised.code, raised.payload):
            return True
    return False


def _propagate(conn: Connection, child: Step, runner: Runner, kind: str, code: str | None,
               variables: dict[str, Any]) -> bool:
    from .advance import advance

    if not child.incident.get("parent_incident_id"):
        return False
    caller = _waiting_call(conn, runner, child.incident)
    if caller is None:
        return False
    values, _local = mapped_out(caller.runner, caller.call.outputs, variables)  # local ones end with the activity
    step = Step(caller.incident, caller.runtime, child.actor, child.at)
    step.event(f"call_{kind}_caught", {"child_incident_id": child.incident["id"], "code": code,
                                       "variables": sorted(values)},
               task_id=caller.task_id, element_id=caller.element_id, element_type="callActivity")
    state, task_id, parent_runner = caller.incident["state"], caller.task_id, caller.runner
    try:
        result = advance(conn, step, parent_runner,
                         lambda: parent_runner.catch_at_call(state, task_id, kind, code, values))
    except LookupError:  # nothing in the parent catches it: its own caller may
        return _propagate(conn, Step(caller.incident, caller.runtime, child.actor, child.at), caller.runner, kind,
                          code, {**caller.sees, **values})
    if result is None:
        return True  # the parent failed on its boundary path (put in error there)
    return not any(s.task_id == task_id for s in result.services)


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


def cancel_interrupted(conn: Connection, step: Step, runner: Runner, outcomes: list[Outcome]) -> None:
    """Call activities an interrupting boundary event (error, escalation, timer, message...) took away
    in this transition: their children are cancelled with them."""
    for outcome in outcomes:
        for tr in outcome.transitions:
            node = runner.procedure.definition.nodes.get(tr.element_id or "")
            if tr.to_state == "cancelled" and node is not None and node.call is not None:
                cancel_children(conn, runner.engine, step.incident["id"], step.actor, step.at,
                                f"call activity {tr.element_id} was interrupted", task_id=tr.task_id)


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


def cancel_children(conn: Connection, engine: Any, incident_id: str, actor: str | None, at: Any, reason: str,
                    task_id: str | None = None) -> None:
    """Cancel every running, failed or stalled child of an incident (or of its call activity `task_id`), and
    theirs, as a cancelled parent's work."""
    from .recording import record_outcome, save_incident

    for child in incident_rows.children(conn, incident_id):
        if child["status"] not in ("running", "error", "stalled") or (
                task_id is not None and child["parent_task_id"] != task_id):
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
