"""Compensation as BPMN 2.0 / Camunda 7 define it: the upload's rules, and the rewrite SpiffWorkflow can run.

SpiffWorkflow 3.2 has no compensation at all (no event definition, no handler), so the file is rewritten
before SpiffWorkflow parses it, into plain BPMN it runs:
- each compensation handler (an activity marked isForCompensation, joined to a compensation boundary event
  by an association) moves into a process of its own, `__compensate__<handler>` (start, handler, end);
- each compensation event subprocess (a subprocess triggeredByEvent whose start event is a compensation
  start event) moves into such a process too, started with a plain start event;
- each compensation throw (intermediate or end event) becomes an embedded subprocess with the throw's id:
  a loop that asks engine.runtime.compensation for the next handler to run and calls its process (a call
  activity per handler, chosen by an exclusive gateway), until nothing is left; then the flow goes on
  (waitForCompletion: the handlers complete before the throw does);
- a transaction's cancel boundary event gets such a throw after it (for what completed in the cancelled
  transaction), when the transaction holds compensable activities;
- compensation boundary events and their associations are dropped (the runtime records each completed
  compensable activity instead, engine.runtime.compensation).
Generated elements carry GENERATED in their ids; the runtime hides them (no bpmn_id) from the audit trail,
the loop cap and the task lists, except the calls, which are audited as compensation_started/_completed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import Problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
GENERATED = "__compensation_"
HANDLER_PROCESS = "__compensate__"
CALL = "__compensation_call__"
PICK = "__compensation_pick"
NEXT = "_compensation_next"  # the data variable the generated gateway reads (never left in the data)
NOT_SUPPORTED = "is not supported by this engine"
HANDLER_TYPES = frozenset({"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask",
                           "businessRuleTask", "receiveTask", "subProcess"})
_SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")


@dataclass(frozen=True)
class Plan:
    """What the runtime needs to know about a rewritten file."""

    handlers: dict[str, str] = field(default_factory=dict)  # compensable element id -> its handler's id
    event_subprocesses: frozenset[str] = frozenset()  # elements whose handler is a compensation event subprocess
    recorded: frozenset[str] = frozenset()  # element ids whose completions are recorded
    throws: dict[str, str | None] = field(default_factory=dict)  # throw id -> activityRef (None: the whole scope)
    transactions: dict[str, str] = field(default_factory=dict)  # generated throw after a cancel -> transaction
    event_scopes: frozenset[str] = frozenset()  # event subprocesses: a throw in one compensates its scope

    def __bool__(self) -> bool:
        return bool(self.throws or self.handlers)


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _bpmn(el: Any) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(f"{{{BPMN_NS}}}")


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _definition(el: Any) -> Any:
    return next((c for c in el if _bpmn(c) and _local(c) == "compensateEventDefinition"), None)


def is_compensation_start(el: Any) -> bool:
    return _local(el) == "startEvent" and _definition(el) is not None


def is_compensation_event_subprocess(el: Any) -> bool:
    return (_local(el) == "subProcess" and el.get("triggeredByEvent") == "true"
            and any(_bpmn(c) and is_compensation_start(c) for c in el))


def _compensation_boundaries(root: Any) -> list[Any]:
    return [b for b in root.iter(_q("boundaryEvent")) if _definition(b) is not None]


def _throws(root: Any) -> list[Any]:
    return [t for t in root.iter(_q("intermediateThrowEvent"), _q("endEvent")) if _definition(t) is not None]


def _associated(root: Any, boundary_id: str) -> list[str]:
    """Ids an association joins to the boundary event (either direction, as modellers draw both)."""
    out = []
    for assoc in root.iter(_q("association")):
        source, target = assoc.get("sourceRef"), assoc.get("targetRef")
        if source == boundary_id and target:
            out.append(target)
        elif target == boundary_id and source:
            out.append(source)
    return out


def _by_id(root: Any) -> dict[str, Any]:
    return {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")}


def _container(el: Any) -> Any:
    node = el.getparent()
    while node is not None and _local(node) not in _SCOPES:
        node = node.getparent()
    return node


def _flows(container: Any, node_id: str) -> tuple[list[Any], list[Any]]:
    flows = [f for f in container if _local(f) == "sequenceFlow"]
    return ([f for f in flows if f.get("targetRef") == node_id], [f for f in flows if f.get("sourceRef") == node_id])


# --- the upload's rules ----------------------------------------------------------------------------


def problems(scope: list[Any], problem: Any) -> tuple[list[Problem], list[Problem]]:
    """(refusals, warnings) for the compensation in the deployed processes; `problem(el, message, rule)`."""
    out: list[Problem] = []
    warnings: list[Problem] = []
    if not scope:
        return out, warnings
    root = scope[0].getroottree().getroot()
    ids = _by_id(root)
    handled: set[str] = set()
    for process in scope:
        for boundary in _compensation_boundaries(process):
            out += _boundary_problems(boundary, ids, handled, problem, warnings)
        for el in (e for e in process.iter() if _bpmn(e) and e.get("isForCompensation") == "true"):
            out += _handler_problems(el, handled, problem, warnings)
        for el in (e for e in process.iter(_q("subProcess")) if is_compensation_event_subprocess(e)):
            out += _event_subprocess_problems(el, problem)
        for throw in _throws(process):
            out += _throw_problems(throw, ids, problem, warnings)
        for catch in process.iter(_q("startEvent"), _q("boundaryEvent")):
            definition = _definition(catch)
            if definition is not None and definition.get("waitForCompletion") is not None:
                out.append(problem(catch, f"compensation catch event {catch.get('id')}: waitForCompletion belongs to a "
                                   "compensation throw, not a catch (Camunda refuses it too)", "bpmn.camunda"))
        for tx in process.iter(_q("transaction")):
            out += _transaction_problems(tx, problem)
    return out, warnings


def _boundary_problems(boundary: Any, ids: dict[str, Any], handled: set[str], problem: Any,
                       warnings: list[Problem]) -> list[Problem]:
    name, out = boundary.get("id"), []
    host = ids.get(boundary.get("attachedToRef") or "")
    container = _container(boundary)
    if container is not None and _flows(container, name)[1]:
        out.append(problem(boundary, f"compensation boundary event {name} has an outgoing sequence flow: its "
                           "handler is joined to it by an association, not a flow (Camunda refuses it too)",
                           "bpmn.camunda"))
    processes = {p.get("id") for p in boundary.getroottree().getroot().iter(_q("process"))}
    if host is not None and _local(host) == "callActivity" and (host.get("calledElement") or "").strip() not in processes:
        out.append(problem(boundary, f"compensation boundary event {name} on call activity {host.get('id')} "
                           f"{NOT_SUPPORTED}: the called process runs as another incident, whose work is not "
                           "recorded here for compensation", "unsupported.compensation"))
    targets = _associated(boundary.getroottree().getroot(), name)
    if not targets:
        warnings.append(problem(boundary, f"compensation boundary event {name} has no associated handler: "
                                f"compensating {boundary.get('attachedToRef')} does nothing", "compensation"))
    elif len(targets) > 1:
        out.append(problem(boundary, f"compensation boundary event {name} is associated with several activities "
                           f"({', '.join(targets)}); one compensation handler per activity", "bpmn.camunda"))
    for target in targets[:1]:
        handler = ids.get(target)
        if handler is None or handler.get("isForCompensation") != "true":
            out.append(problem(boundary, f"compensation boundary event {name} is associated with {target}, which "
                               'is not a compensation activity (isForCompensation="true")', "bpmn.camunda"))
        else:
            handled.add(target)
    return out


def _handler_problems(el: Any, handled: set[str], problem: Any, warnings: list[Problem]) -> list[Problem]:
    name, tag, out = el.get("id"), _local(el), []
    if is_compensation_event_subprocess(el):
        return []
    if tag not in HANDLER_TYPES or el.get("triggeredByEvent") == "true":
        return [problem(el, f"{tag} {name} as a compensation handler {NOT_SUPPORTED}: a handler is a task, a user, "
                        "manual, script, service, send, receive or business rule task, or an embedded subprocess",
                        "unsupported.compensation")]
    container = _container(el)
    incoming, outgoing = _flows(container, name) if container is not None else ([], [])
    if incoming or outgoing:
        out.append(problem(el, f"compensation activity {name} has sequence flows: a compensation handler is "
                           "reached only through its boundary event's association (Camunda refuses it too)",
                           "bpmn.camunda"))
    root = el.getroottree().getroot()
    if any(b.get("attachedToRef") == name for b in root.iter(_q("boundaryEvent"))):
        out.append(problem(el, f"boundary events on the compensation handler {name} {NOT_SUPPORTED}",
                           "unsupported.compensation"))
    if tag == "subProcess" and (_throws(el) or any(_definition(b) is not None
                                                 for b in el.iter(_q("boundaryEvent")))):
        out.append(problem(el, f"compensation inside the compensation handler {name} {NOT_SUPPORTED}",
                           "unsupported.compensation"))
    if name not in handled and not out:
        warnings.append(problem(el, f"compensation activity {name} is associated with no compensation boundary "
                                "event: it never runs", "compensation"))
    return out


def _event_subprocess_problems(el: Any, problem: Any) -> list[Problem]:
    name, parent = el.get("id"), el.getparent()
    if parent is None or _local(parent) not in ("subProcess", "transaction") or parent.get("triggeredByEvent") == "true":
        return [problem(el, f"compensation event subprocess {name} must be inside an embedded subprocess (Camunda "
                        "refuses one at process level too): it compensates that subprocess", "bpmn.camunda")]
    root = el.getroottree().getroot()
    pid = parent.get("id")
    if any(b.get("attachedToRef") == pid for b in _compensation_boundaries(root)):
        return [problem(el, f"subprocess {pid} has both a compensation boundary event and the compensation event "
                        f"subprocess {name}; Camunda refuses that too: draw one of them", "bpmn.camunda")]
    starts = [c for c in el if _bpmn(c) and _local(c) == "startEvent"]
    if len(starts) != 1:
        return [problem(el, f"compensation event subprocess {name} must have exactly one start event",
                        "bpmn.camunda")]
    return []


def _throw_problems(throw: Any, ids: dict[str, Any], problem: Any, warnings: list[Problem]) -> list[Problem]:
    name, out = throw.get("id"), list[Problem]()
    definition = _definition(throw)
    others = [c for c in throw if _bpmn(c) and _local(c).endswith("EventDefinition") and c is not definition]
    if others:
        return [problem(throw, f"compensation throw {name} has other event definitions too", "unsupported.event")]
    for node in throw.iterancestors():
        if node.get("isForCompensation") == "true" and not is_compensation_event_subprocess(node):
            return [problem(throw, f"compensation throw {name} inside the compensation handler {node.get('id')} "
                            f"{NOT_SUPPORTED}", "unsupported.compensation")]
    if (definition.get("waitForCompletion") or "true").strip() == "false":
        warnings.append(problem(throw, f'compensation throw {name} has waitForCompletion="false", which is not '
                                "honoured: this engine always lets the handlers complete before the throw goes on", "compensation"))
    ref = (definition.get("activityRef") or "").strip()
    if not ref:
        return out
    container = _container(throw)
    allowed = [container]
    while container is not None and container.get("triggeredByEvent") == "true":  # an event subprocess
        container = _container(container)  # compensates the scope it belongs to
        allowed.append(container)
    target = ids.get(ref)
    if target is None or _container(target) not in allowed:
        out.append(problem(throw, f"compensation throw {name}: activityRef '{ref}' is not an activity of the same "
                           "scope as the throw (or, in a compensation event subprocess, of the subprocess it "
                           "compensates); Camunda refuses it too", "bpmn.camunda"))
    elif target.get("isForCompensation") == "true" or _local(target) not in (*HANDLER_TYPES, "callActivity", "transaction"):
        out.append(problem(throw, f"compensation throw {name}: activityRef '{ref}' is not a compensable activity",
                           "bpmn.camunda"))
    return out


def _transaction_problems(tx: Any, problem: Any) -> list[Problem]:
    return []


# --- the rewrite ---------------------------------------------------------------------------------------


def _make(parent: Any, tag: str, **attrs: str) -> Any:
    el = parent.makeelement(_q(tag), {k: v for k, v in attrs.items()})
    parent.append(el)
    return el


def _flow(parent: Any, source: str, target: str, condition: str | None = None) -> Any:
    flow = _make(parent, "sequenceFlow", id=f"{source}{GENERATED}to_{target}", sourceRef=source, targetRef=target)
    if condition is not None:
        expr = flow.makeelement(_q("conditionExpression"), {XSI_TYPE: "tFormalExpression"})
        expr.text = condition
        flow.append(expr)
    return flow


def _lane_of(root: Any, node_id: str) -> str | None:
    for lane in root.iter(_q("lane")):
        if any(_local(c) == "flowNodeRef" and (c.text or "").strip() == node_id for c in lane):
            return lane.get("name")
    return None


def _handler_process(root: Any, handler: Any) -> str:
    """Move `handler` into a process of its own: start -> handler -> end."""
    hid = handler.get("id")
    pid = f"{HANDLER_PROCESS}{hid}"
    lane = _lane_of(root, hid)
    handler.getparent().remove(handler)
    process = root.makeelement(_q("process"), {"id": pid, "isExecutable": "true"})
    root.append(process)
    if lane:
        lane_set = _make(process, "laneSet", id=f"{pid}{GENERATED}lanes")
        lane_el = _make(lane_set, "lane", id=f"{pid}{GENERATED}lane", name=lane)
        ref = lane_el.makeelement(_q("flowNodeRef"), {})
        ref.text = hid
        lane_el.append(ref)
    start, end = f"{hid}{GENERATED}start", f"{hid}{GENERATED}end"
    _make(process, "startEvent", id=start)
    process.append(handler)
    _make(process, "endEvent", id=end)
    _flow(process, start, hid)
    _flow(process, hid, end)
    handler.attrib.pop("isForCompensation", None)
    return pid


def _event_subprocess_process(root: Any, sub: Any) -> str:
    """Move a compensation event subprocess's content into a process of its own, started plainly."""
    sid = sub.get("id")
    pid = f"{HANDLER_PROCESS}{sid}"
    sub.getparent().remove(sub)
    process = root.makeelement(_q("process"), {"id": pid, "isExecutable": "true"})
    root.append(process)
    for child in list(sub):
        if _bpmn(child) and _local(child) in ("incoming", "outgoing"):
            continue
        if _bpmn(child) and is_compensation_start(child):
            child.remove(_definition(child))
        process.append(child)
    return pid


def _replace_throw(throw: Any, handler_processes: dict[str, str]) -> None:
    """The throw becomes an embedded subprocess running every handler the runtime picks, one after another."""
    tid = throw.get("id")
    parent = throw.getparent()
    is_end = _local(throw) == "endEvent"
    sub = throw.makeelement(_q("subProcess"), {"id": tid, **({"name": throw.get("name")} if throw.get("name") else {})})
    for child in throw:
        if _bpmn(child) and _local(child) in ("incoming", "outgoing"):
            copy = child.makeelement(child.tag, {})
            copy.text = child.text
            sub.append(copy)
    parent.replace(throw, sub)
    start, merge, gate, end = (f"{tid}{GENERATED}{part}" for part in ("start", "merge", "gate", "end"))
    pick = f"{tid}{PICK}"
    _make(sub, "startEvent", id=start)
    _make(sub, "exclusiveGateway", id=merge)
    _make(sub, "intermediateThrowEvent", id=pick)
    _make(sub, "exclusiveGateway", id=gate, default=f"{gate}{GENERATED}to_{end}")
    _make(sub, "endEvent", id=end)
    _flow(sub, start, merge)
    _flow(sub, merge, pick)
    _flow(sub, pick, gate)
    _flow(sub, gate, end)
    for element, process_id in handler_processes.items():
        call = f"{tid}{CALL}{element}"
        _make(sub, "callActivity", id=call, calledElement=process_id)
        _flow(sub, gate, call, f'{NEXT} == "{element}"')
        _flow(sub, call, merge)
    if is_end:  # an end event's work is done by the subprocess; a plain end event ends the path
        after = f"{tid}{GENERATED}after"
        _make(parent, "endEvent", id=after)
        _flow(parent, tid, after)


def _cancel_compensations(root: Any, boundaries: list[Any]) -> dict[str, str]:
    """A cancel boundary event of a transaction that holds compensable activities gets a generated throw
    after it: cancelling the transaction compensates what completed inside it, then its flow goes on (the
    throw id -> the transaction id)."""
    ids = _by_id(root)
    out: dict[str, str] = {}
    for cancel in root.iter(_q("boundaryEvent")):
        if not any(_bpmn(c) and _local(c) == "cancelEventDefinition" for c in cancel):
            continue
        tx = ids.get(cancel.get("attachedToRef") or "")
        if tx is None or _local(tx) != "transaction" or not any(tx in b.iterancestors() for b in boundaries):
            continue
        container = cancel.getparent()
        cid = cancel.get("id")
        throw_id = f"{cid}{GENERATED}tx"
        for flow in _flows(container, cid)[1]:
            flow.set("sourceRef", throw_id)
        throw = _make(container, "intermediateThrowEvent", id=throw_id)
        _make(throw, "compensateEventDefinition")
        _flow(container, cid, throw_id)
        out[throw_id] = tx.get("id")
    return out


def rewrite(root: Any) -> Plan:
    """Rewrite every process of the (already prepared) file as the module docstring says."""
    boundaries = _compensation_boundaries(root)
    cancels = _cancel_compensations(root, boundaries)
    throws = _throws(root)
    event_subs = [e for e in root.iter(_q("subProcess")) if is_compensation_event_subprocess(e)]
    marked = [e for e in root.iter() if _bpmn(e) and e.get("isForCompensation") == "true"
              and not is_compensation_event_subprocess(e)]
    if not (boundaries or throws or event_subs or marked):
        return Plan()
    ids = _by_id(root)
    handler_of: dict[str, str] = {}  # compensable element -> handler element (activity or event subprocess)
    for boundary in boundaries:
        targets = _associated(root, boundary.get("id"))
        if targets and targets[0] in ids:
            handler_of[boundary.get("attachedToRef")] = targets[0]
    for sub in event_subs:
        handler_of[sub.getparent().get("id")] = sub.get("id")
    recorded = set(handler_of)
    for element in list(handler_of):
        node = ids.get(element)
        for ancestor in (node.iterancestors() if node is not None else ()):
            if _local(ancestor) in ("subProcess", "transaction", "adHocSubProcess") \
                    and ancestor.get("triggeredByEvent") != "true":
                recorded.add(ancestor.get("id"))
    for boundary in boundaries:
        boundary.getparent().remove(boundary)
    boundary_ids = {b.get("id") for b in boundaries}
    for assoc in list(root.iter(_q("association"))):
        if assoc.get("sourceRef") in boundary_ids or assoc.get("targetRef") in boundary_ids:
            assoc.getparent().remove(assoc)
    processes: dict[str, str] = {}  # handler element -> its process
    used = set(handler_of.values())
    for handler in marked:
        if handler.get("id") in used:
            processes[handler.get("id")] = _handler_process(root, handler)
        else:  # never runs (the upload warned)
            handler.getparent().remove(handler)
    sub_ids = {sub.get("id") for sub in event_subs}
    for sub in event_subs:
        processes[sub.get("id")] = _event_subprocess_process(root, sub)
    throw_refs: dict[str, str | None] = {}
    for throw in throws:
        throw_refs[throw.get("id")] = (_definition(throw).get("activityRef") or "").strip() or None
        _replace_throw(throw, processes)
    return Plan(handlers={element: h for element, h in handler_of.items() if h in processes},
                event_subprocesses=frozenset(element for element, h in handler_of.items() if h in sub_ids),
                recorded=frozenset(recorded), throws=throw_refs, transactions=cancels,
                event_scopes=frozenset(e.get("id") for e in root.iter(_q("subProcess"))
                                       if e.get("triggeredByEvent") == "true"))
