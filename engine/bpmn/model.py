"""Plain, immutable description of a deployed procedure, so the rest of the engine never walks BPMN XML."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from engine.errors import Problem

MAX_DOCUMENTATION = 8000  # characters of a user task's documentation copied into each of its tasks

FORM_FIELD_TYPES = frozenset({"string", "long", "double", "boolean", "date", "enum"})


@dataclass(frozen=True)
class EnumOption:
    """One allowed value of an enum form field: `id` is what is submitted, `name` what is shown."""

    id: str
    name: str


@dataclass(frozen=True)
class FormField:
    """One Camunda form field (camunda:formField)."""

    id: str
    label: str
    type: str
    required: bool = False
    options: tuple[EnumOption, ...] = ()
    default: Any = None
    readonly: bool = False
    max_length: int | None = None
    min_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    personal: bool = False  # the field property `personal` = true: its value is personal data (issue #17)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(option.id for option in self.options)


@dataclass(frozen=True)
class FormRefDef:
    """A Camunda form a user task shows: camunda:formRef (+ binding), or by file name for
    camunda:formKey="camunda-forms:deployment:NAME" (always from the task's own deployment)."""

    key: str
    binding: str = "latest"
    version: int | None = None
    version_tag: str | None = None
    by_filename: bool = False


@dataclass(frozen=True)
class UserTaskDef:
    """A human task: who may work on it and what they must submit."""

    id: str
    name: str
    lane: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    assignee: str | None = None
    form: tuple[FormField, ...] = ()
    documentation: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    form_key: str | None = None
    form_ref: FormRefDef | None = None  # a Camunda form (.form file) instead of generated fields
    due_date: str | None = None  # camunda:dueDate, raw: an ISO date-time or duration, or ${...}
    follow_up_date: str | None = None  # camunda:followUpDate, the same
    priority: str | None = None  # camunda:priority, raw: an integer or ${...}


@dataclass(frozen=True)
class TimerDef:
    """A timer event definition: kind is 'duration', 'date' or 'cycle'; expression is the raw text."""

    kind: str
    expression: str


@dataclass(frozen=True)
class FlowDef:
    """A sequence flow."""

    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    is_default: bool = False


@dataclass(frozen=True)
class DecisionRefDef:
    """What a business rule task evaluates (camunda:decisionRef + binding) and where the result goes."""

    key: str
    binding: str = "latest"
    version: int | None = None
    version_tag: str | None = None
    result_variable: str | None = None
    map_result: str = "resultList"


@dataclass(frozen=True)
class CallDef:
    """A call activity that calls a process of another file, run as a child incident.

    `inputs`/`outputs` are the camunda:in/out: ("all", "", "", local), ("source", name, target, local) or
    ("expression", text, target, local); `business_key` is camunda:in businessKey's expression.
    `local_names` are the call activity's own variables (its camunda:inputParameter names): what a
    camunda:in local="true" reads.
    """

    key: str
    binding: str = "latest"
    version: int | None = None
    version_tag: str | None = None
    inputs: tuple[tuple[str, str, str, bool], ...] = ()
    outputs: tuple[tuple[str, str, str, bool], ...] = ()
    business_key: str | None = None
    local_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeDef:
    """A flow node (task, gateway, event, subprocess) of the deployed process.

    `type` is the BPMN local tag ('userTask', 'exclusiveGateway', 'boundaryEvent', ...).
    `properties` merges camunda:properties and spiffworkflow:properties (spiffworkflow wins on a clash).
    `event_kind` is set for events only: 'none', 'timer', 'message', 'error', 'escalation', 'signal',
    'terminate', 'cancel', 'conditional', 'compensate', 'link' or 'multiple'.
    `topic` is the outbox topic of a service task (camunda:topic, or the spiffworkflow operator name), and
    of a send task or message throw or end event (camunda:topic when external, else the message name).
    `parent` is the id of the embedded subprocess that contains the node (None at the top level).
    `cancel_activity` is set for boundary events (cancelActivity) and for the start events of event
    subprocesses (isInterrupting); both default to true.
    `event_name` is the name of the message or signal a node catches or throws (receive and send tasks too).
    `event_inputs` are the camunda:in of a thrown signal: ("all", "", ""), ("source", name, target) or
    ("expression", text, target).
    """

    id: str
    type: str
    name: str | None = None
    lane: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    attached_to: str | None = None
    cancel_activity: bool | None = None
    timer: TimerDef | None = None
    event_kind: str | None = None
    incoming: tuple[str, ...] = ()
    outgoing: tuple[str, ...] = ()
    topic: str | None = None
    parent: str | None = None
    line: int | None = None
    pre_script: str | None = None
    post_script: str | None = None
    event_name: str | None = None
    external: bool = False  # camunda:type="external": a worker may pull it (unless its topic is pushed)
    event_inputs: tuple[tuple[str, str, str], ...] = ()
    decision: DecisionRefDef | None = None  # business rule tasks
    call: CallDef | None = None  # call activities whose process is in another file
    form_ref: FormRefDef | None = None  # a start event's Camunda form (the start data is validated against it)
    initiator: str | None = None  # camunda:initiator of a start event: the variable for the starter's id
    for_compensation: bool = False  # isForCompensation: run only as a compensation handler (no flows)


@dataclass(frozen=True)
class ProcedureDefinition:
    """Everything the engine needs about one executable process of an uploaded file.

    `spec` and `subprocess_specs` are SpiffWorkflow objects, read-only and shared between instances.
    `nodes` covers the whole process, including the content of embedded subprocesses.
    """

    key: str
    name: str
    process_properties: dict[str, str]
    user_tasks: tuple[UserTaskDef, ...]
    nodes: dict[str, NodeDef]
    flows: dict[str, FlowDef]
    lanes: tuple[str, ...]
    spec: Any = None
    subprocess_specs: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    def flow_between(self, source_id: str, target_id: str) -> FlowDef | None:
        """The first sequence flow from `source_id` to `target_id`, if any."""
        for flow in self.flows.values():
            if flow.source == source_id and flow.target == target_id:
                return flow
        return None

    def user_task(self, task_id: str) -> UserTaskDef | None:
        """The user task with this BPMN id, if any."""
        for task in self.user_tasks:
            if task.id == task_id:
                return task
        return None

    def outgoing(self, node_id: str) -> tuple[FlowDef, ...]:
        """The sequence flows leaving a node."""
        node = self.nodes.get(node_id)
        return tuple(self.flows[f] for f in node.outgoing if f in self.flows) if node else ()

    def incoming(self, node_id: str) -> tuple[FlowDef, ...]:
        """The sequence flows entering a node."""
        node = self.nodes.get(node_id)
        return tuple(self.flows[f] for f in node.incoming if f in self.flows) if node else ()

    def boundary_events(self, node_id: str) -> tuple[NodeDef, ...]:
        """Boundary events attached to a node."""
        return tuple(n for n in self.nodes.values() if n.attached_to == node_id)

    def start_events(self) -> tuple[NodeDef, ...]:
        """The start events of the process itself (not of its subprocesses)."""
        return tuple(n for n in self.nodes.values() if n.type == "startEvent" and n.parent is None)


# --- reading the graph of a process from the (already checked) XML -----------------------------------
@dataclass
class Graph:
    """What read_graph found: the model pieces, plus problems (refuse) and warnings (accept)."""

    nodes: dict[str, NodeDef]
    flows: dict[str, FlowDef]
    user_tasks: tuple[UserTaskDef, ...]
    lanes: tuple[str, ...]
    problems: list[Problem]
    warnings: list[Problem]


def properties(el: Any) -> dict[str, str]:
    """camunda:properties then spiffworkflow:properties of an element (spiffworkflow wins on a clash)."""
    from engine.bpmn.support import CAMUNDA_NS, SPIFF_NS, local, namespace

    found: dict[str, str] = {}
    for wanted in (CAMUNDA_NS, (SPIFF_NS,)):
        for ext in (c for c in el if local(c) == "extensionElements"):
            for props in (c for c in ext if local(c) == "properties" and namespace(c) in wanted):
                for prop in (p for p in props if local(p) == "property" and p.get("name")):
                    found[prop.get("name")] = prop.get("value") or ""
    return found


def _spiff_extension(el: Any, name: str) -> Any:
    from engine.bpmn.support import SPIFF_NS, local, namespace

    found = (c for ext in el if local(ext) == "extensionElements" for c in ext
             if local(c) == name and namespace(c) == SPIFF_NS)
    return next(found, None)


def _owners(el: Any) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """Candidate groups, candidate users and assignee: camunda attributes, else BPMN resource roles."""
    import re

    from engine.bpmn.support import camunda_attr, local, split_identities

    groups = list(split_identities(camunda_attr(el, "candidateGroups") or ""))
    users = list(split_identities(camunda_attr(el, "candidateUsers") or ""))
    assignee = (camunda_attr(el, "assignee") or "").strip() or None
    for role in (c for c in el if local(c) in ("potentialOwner", "humanPerformer")):
        expressions = [e for e in role.iter() if isinstance(e.tag, str) and local(e) == "formalExpression"]
        for item in split_identities(" ".join((e.text or "") for e in expressions)):
            match = re.fullmatch(r"(user|group)\((.*)\)", item)
            kind, value = (match.group(1), match.group(2).strip()) if match else (None, item)
            if local(role) == "humanPerformer" and assignee is None:
                assignee = value
            elif kind == "user":
                users.append(value)
            elif local(role) == "potentialOwner":
                groups.append(value)
    return tuple(dict.fromkeys(groups)), tuple(dict.fromkeys(users)), assignee


def read_graph(top: Any, scope: list[Any]) -> Graph:
    """Nodes, flows, user tasks and lanes of the deployed process, including embedded subprocesses and
    the processes it calls in the same file (their nodes have `parent` set to the called process id)."""
    from engine.bpmn.support import BPMN_NS, CONTAINER_EXTRAS, CONTAINERS, local, namespace

    graph = Graph({}, {}, (), (), [], [])
    lane_of: dict[str, str | None] = {}
    lanes: list[str] = []
    for process in scope:
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            if lane.get("name") and process is top and lane.get("name") not in lanes:
                lanes.append(lane.get("name"))
            for ref in (c for c in lane if local(c) == "flowNodeRef" and c.text):
                lane_of[ref.text.strip()] = lane.get("name")
    raw_nodes: list[tuple[Any, str | None, str | None]] = []
    raw_flows: list[Any] = []
    todo: list[tuple[Any, str | None, str | None]] = [(p, None if p is top else p.get("id"), None)
                                                       for p in scope]
    while todo:
        container, parent, inherited = todo.pop(0)
        for el in (c for c in container if namespace(c) == BPMN_NS and c.get("id")):
            if local(el) == "sequenceFlow":
                raw_flows.append(el)
            elif local(el) not in CONTAINER_EXTRAS:
                lane = inherited or lane_of.get(el.get("id"))
                raw_nodes.append((el, parent, lane))
                if local(el) in CONTAINERS:
                    todo.append((el, el.get("id"), inherited or lane))
    defaults = {el.get("id"): el.get("default") for el, _, _ in raw_nodes if el.get("default")}
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for el in raw_flows:
        condition = next((c for c in el if local(c) == "conditionExpression"), None)
        text = (condition.text or "").strip() if condition is not None else ""
        flow = FlowDef(id=el.get("id"), source=el.get("sourceRef") or "", target=el.get("targetRef") or "",
                       name=el.get("name"), condition=text or None,
                       is_default=defaults.get(el.get("sourceRef")) == el.get("id"))
        graph.flows[flow.id] = flow
        outgoing.setdefault(flow.source, []).append(flow.id)
        incoming.setdefault(flow.target, []).append(flow.id)
    user_tasks: list[UserTaskDef] = []
    for el, parent, lane in raw_nodes:
        node_id = el.get("id")
        node = _node(el, parent, lane, tuple(incoming.get(node_id, ())), tuple(outgoing.get(node_id, ())))
        graph.nodes[node.id] = node
        if node.type == "userTask":
            task, form_problems = _user_task(el, lane)
            if task.documentation and len(task.documentation) > MAX_DOCUMENTATION:
                # Copied into every task row and listing: keep a readable head, the file keeps the rest
                graph.warnings.append(Problem(
                    message=f"the documentation of user task {node.id} is {len(task.documentation)} characters; "
                            f"its tasks show the first {MAX_DOCUMENTATION} (the full text stays in the file)",
                    element_id=node.id, line=el.sourceline, rule="containment.documentation"))
                task = replace(task, documentation=task.documentation[:MAX_DOCUMENTATION - 1] + "…")
            user_tasks.append(task)
            graph.problems.extend(form_problems)
            if task.form_key and not task.form and task.form_ref is None:
                graph.warnings.append(Problem(
                    message=f"user task {node.id} uses the external form '{task.form_key}', which is not in "
                            "this file: the task accepts any JSON object",
                    element_id=node.id, line=el.sourceline, rule="form.external"))
    graph.user_tasks, graph.lanes = tuple(user_tasks), tuple(lanes)
    return graph


def event_name(el: Any) -> str | None:
    """The name of the message or signal an event, receive task or send task refers to (None if none)."""
    from engine.bpmn.support import BPMN_NS, local, namespace

    refs = [(el, "messageRef", "message")] if el.get("messageRef") else []
    refs += [(d, f"{kind}Ref", kind) for d in el if namespace(d) == BPMN_NS
             for kind in ("message", "signal") if local(d) == f"{kind}EventDefinition"]
    for definition, attribute, kind in refs:
        ref = (definition.get(attribute) or "").rpartition(":")[2].strip()
        for target in el.getroottree().getroot().iter(f"{{{BPMN_NS}}}{kind}"):
            if target.get("id") == ref:
                return target.get("name") or ref
        return ref or None
    return None


def event_inputs(el: Any) -> tuple[tuple[str, str, str], ...]:
    """The camunda:in of an event's signal definition: what a thrown signal carries."""
    from engine.bpmn.support import CAMUNDA_NS, local, namespace

    found: list[tuple[str, str, str]] = []
    for definition in (d for d in el if local(d) == "signalEventDefinition"):
        for item in (c for ext in definition if local(ext) == "extensionElements" for c in ext
                     if local(c) == "in" and namespace(c) in CAMUNDA_NS):
            if (item.get("variables") or "").strip() == "all":
                found.append(("all", "", ""))
            elif item.get("source") and item.get("target"):
                found.append(("source", item.get("source"), item.get("target")))
            elif item.get("sourceExpression") and item.get("target"):
                found.append(("expression", item.get("sourceExpression"), item.get("target")))
    return tuple(found)


def _interrupting(el: Any, tag: str) -> bool | None:
    from engine.bpmn.support import local

    if tag == "boundaryEvent":
        return el.get("cancelActivity", "true").strip().lower() == "true"
    parent = el.getparent()
    if tag == "startEvent" and parent is not None and local(parent) == "subProcess" \
            and parent.get("triggeredByEvent") == "true":
        return el.get("isInterrupting", "true").strip().lower() == "true"
    return None


def _node(el: Any, parent: str | None, lane: str | None, incoming: tuple[str, ...],
          outgoing: tuple[str, ...]) -> NodeDef:
    from engine.bpmn.support import camunda_attr, event_kinds, local

    tag = local(el)
    is_event = tag.endswith("Event")
    kinds = event_kinds(el) if is_event else []
    name = event_name(el) if is_event or tag in ("receiveTask", "sendTask") else None
    definition = next((c for c in el if local(c) == "timerEventDefinition"), None)
    times = [t for t in (definition if definition is not None else [])
             if local(t) in ("timeDuration", "timeDate", "timeCycle")]
    timer = TimerDef(local(times[0])[4:].lower(), (times[0].text or "").strip()) if times else None
    operator = _spiff_extension(el, "serviceTaskOperator")
    # Camunda Modeler writes an external message throw's type and topic on its messageEventDefinition
    carrier = next((c for c in el if local(c) == "messageEventDefinition" and camunda_attr(c, "type")), el)
    topic = camunda_attr(carrier, "topic") if camunda_attr(carrier, "type") == "external" else None
    external = topic is not None
    if topic is None and operator is None and (tag == "sendTask" or (
            tag in ("intermediateThrowEvent", "endEvent") and kinds == ["message"])):
        topic = name or el.get("id")
    pre, post = _spiff_extension(el, "preScript"), _spiff_extension(el, "postScript")
    return NodeDef(
        id=el.get("id"), type=tag, name=el.get("name"), lane=lane, properties=properties(el),
        attached_to=el.get("attachedToRef"), cancel_activity=_interrupting(el, tag),
        for_compensation=el.get("isForCompensation") == "true", timer=timer, event_kind=(kinds[0] if len(kinds) == 1 else "multiple" if kinds else "none")
        if is_event else None,
        incoming=incoming, outgoing=outgoing,
        topic=topic or (operator.get("id") if operator is not None else None), parent=parent,
        line=el.sourceline, pre_script=pre.text if pre is not None else None,
        post_script=post.text if post is not None else None, event_name=name, external=external,
        event_inputs=event_inputs(el) if "signal" in kinds else (),
        decision=_decision_ref(el) if tag == "businessRuleTask" else None,
        call=call_def(el) if tag == "callActivity" else None,
        form_ref=_form_ref(el) if tag == "startEvent" else None,
        initiator=(camunda_attr(el, "initiator") or "").strip() or None if tag == "startEvent" else None)


def call_def(el: Any) -> CallDef | None:
    """The cross-file call of a call activity (None when it calls a process of its own file)."""
    from engine.bpmn.io_mapping import read_mapping
    from engine.bpmn.support import BPMN_NS, CAMUNDA_NS, camunda_attr, local, namespace

    called = (el.get("calledElement") or "").strip()
    own = {p.get("id") for p in el.getroottree().getroot().iter(f"{{{BPMN_NS}}}process")}
    if not called or called in own:
        return None
    mappings: dict[str, list[tuple[str, str, str, bool]]] = {"in": [], "out": []}
    business_key = None
    for item in (c for ext in el if local(ext) == "extensionElements" for c in ext
                 if local(c) in ("in", "out") and namespace(c) in CAMUNDA_NS):
        is_local = (item.get("local") or "").strip().lower() == "true"
        if item.get("businessKey") is not None and local(item) == "in":
            business_key = item.get("businessKey")
        elif (item.get("variables") or "").strip() == "all":
            mappings[local(item)].append(("all", "", "", is_local))
        elif item.get("source") is not None:
            mappings[local(item)].append(("source", item.get("source"), item.get("target") or "", is_local))
        elif item.get("sourceExpression") is not None:
            mappings[local(item)].append(("expression", item.get("sourceExpression"), item.get("target") or "",
                                          is_local))
    version = (camunda_attr(el, "calledElementVersion") or "").strip()
    io, _problems = read_mapping(el)
    return CallDef(key=called, binding=(camunda_attr(el, "calledElementBinding") or "latest").strip(),
                   version=int(version) if version.isdigit() else None,
                   version_tag=(camunda_attr(el, "calledElementVersionTag") or "").strip() or None,
                   inputs=tuple(mappings["in"]), outputs=tuple(mappings["out"]), business_key=business_key,
                   local_names=tuple(dict.fromkeys(name for name, _value in io.inputs)) if io else ())


def _decision_ref(el: Any) -> DecisionRefDef | None:
    from engine.bpmn.support import camunda_attr

    key = (camunda_attr(el, "decisionRef") or "").strip()
    if not key:
        return None
    version = (camunda_attr(el, "decisionRefVersion") or "").strip()
    return DecisionRefDef(key=key, binding=(camunda_attr(el, "decisionRefBinding") or "latest").strip(),
                          version=int(version) if version.isdigit() else None,
                          version_tag=(camunda_attr(el, "decisionRefVersionTag") or "").strip() or None,
                          result_variable=(camunda_attr(el, "resultVariable") or "").strip() or None,
                          map_result=(camunda_attr(el, "mapDecisionResult") or "resultList").strip())


def _user_task(el: Any, lane: str | None) -> tuple[UserTaskDef, list[Problem]]:
    from engine.bpmn.forms import read_form
    from engine.bpmn.support import camunda_attr, local

    form, problems = read_form(el)
    groups, users, assignee = _owners(el)
    doc = next((c.text for c in el if local(c) == "documentation" and c.text), None)
    instructions = _spiff_extension(el, "instructionsForEndUser")
    doc = doc or (instructions.text if instructions is not None else None)
    task = UserTaskDef(id=el.get("id"), name=(el.get("name") or el.get("id")).strip(), lane=lane,
                       candidate_groups=groups, candidate_users=users, assignee=assignee, form=form,
                       documentation=(doc or "").strip() or None, properties=properties(el),
                       form_key=camunda_attr(el, "formKey"), form_ref=_form_ref(el),
                       due_date=(camunda_attr(el, "dueDate") or "").strip() or None,
                       follow_up_date=(camunda_attr(el, "followUpDate") or "").strip() or None,
                       priority=(camunda_attr(el, "priority") or "").strip() or None)
    if task.form_ref is not None and form:
        problems.append(Problem(message=f"user task {task.id} has both camunda:formData fields and a Camunda form "
                                f"({task.form_ref.key}); keep one", element_id=task.id, line=el.sourceline,
                                rule="form.both"))
    return task, problems


def _form_ref(el: Any) -> FormRefDef | None:
    from engine.bpmn.support import camunda_attr

    prefix = "camunda-forms:deployment:"
    ref = (camunda_attr(el, "formRef") or "").strip()
    key = (camunda_attr(el, "formKey") or "").strip()
    if ref:
        version = (camunda_attr(el, "formRefVersion") or "").strip()
        return FormRefDef(ref, (camunda_attr(el, "formRefBinding") or "latest").strip(),
                          int(version) if version.isdigit() else None,
                          (camunda_attr(el, "formRefVersionTag") or "").strip() or None)
    if key.startswith(prefix) and key[len(prefix):]:
        return FormRefDef(key[len(prefix):], "deployment", by_filename=True)
    return None
