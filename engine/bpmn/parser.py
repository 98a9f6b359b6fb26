"""Turn an uploaded BPMN file into a validated, runnable ProcedureDefinition, or a list of problems."""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

from lxml import etree

from engine.bpmn import (
    camunda_attributes,
    compensation,
    dialects,
    error_starts,
    event_rules,
    implicit,
    io_mapping,
    throw_rules,
)
from engine.bpmn.containment import ModelLimits, containment_problems, containment_warnings
from engine.bpmn.model import ProcedureDefinition, properties, read_graph
from engine.bpmn.support import (
    BPMN_NS,
    CAMUNDA_NS,
    PYTHON_SCRIPT_FORMATS,
    SPIFF_NS,
    SUPPORTED_NODES,
    camunda_attr,
    capped,
    local,
    namespace,
    owner,
    problem,
    split_identities,
    support_problems,
    zeebe_problems,
)
from engine.bpmn.xmlsafe import DEFAULT_MAX_BYTES, MAX_PROBLEMS, parse_xml
from engine.errors import Problem, ProcedureInvalid

_SHORT_NS = {BPMN_NS: "bpmn", "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
             "http://www.omg.org/spec/DD/20100524/DC": "dc", "http://www.omg.org/spec/DD/20100524/DI": "di"}
TOO_LONG = ("the process is too long a chain for SpiffWorkflow's recursive parser (a few hundred elements in "
            "a row); split it into subprocesses")
_XSD_LOCK = threading.Lock()
# SpiffWorkflow names its own task specs like this; a BPMN element with such an id is silently swallowed
# (a start event with id="Start" becomes the internal start task, and the process never starts).
_RESERVED_IDS = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin", " [child]")


@functools.cache
def _validator() -> Any:
    """The BPMN 2.0 XSD, compiled once (10-15 ms). Extension elements are lax (##other), so camunda:,
    spiffworkflow: and zeebe: content is not checked by it."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

    return BpmnValidator()


@functools.cache
def _parser_class() -> type:
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag
    from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
    from SpiffWorkflow.bpmn.specs.defaults import ServiceTask, StartEvent
    from SpiffWorkflow.camunda.parser import CamundaParser

    from engine.bpmn.error_starts import EventSubprocessStartParser

    class ProcedureParser(CamundaParser):
        """CamundaParser, with a send task run like a service task (an external topic, left STARTED), and a
        business rule task left STARTED for our decision evaluator (never SpiffWorkflow's eval-based DMN)."""

        def _find_dependencies(self, process: Any) -> None:
            BpmnParser._find_dependencies(self, process)  # not the DMN ones: our evaluator settles decisions

        OVERRIDE_PARSER_CLASSES = {**CamundaParser.OVERRIDE_PARSER_CLASSES,
                                   full_tag("sendTask"): (TaskParser, ServiceTask),
                                   full_tag("startEvent"): (EventSubprocessStartParser, StartEvent),
                                   full_tag("businessRuleTask"): (TaskParser, ServiceTask)}

    return ProcedureParser


def _short(message: str) -> str:
    for ns, prefix in _SHORT_NS.items():
        message = message.replace(f"{{{ns}}}", f"{prefix}:")
    return message.strip()


def _invalid(detail: str, problems: list[Problem]) -> ProcedureInvalid:
    return ProcedureInvalid(detail, problems[: MAX_PROBLEMS + 1])


def _check_root(root: Any) -> None:
    if root.tag != f"{{{BPMN_NS}}}definitions":
        qname = etree.QName(root)
        shown = f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname
        raise _invalid("not a BPMN 2.0 file", [Problem(
            message=f"not a BPMN 2.0 file: root element is {shown}; expected definitions in the BPMN 2.0 "
                    f"MODEL namespace ({BPMN_NS})", line=root.sourceline, rule="bpmn.root")])


def _xsd_problems(tree: Any) -> list[Problem]:
    validator = _validator()
    validator.preprocess(tree)
    schema = validator.validator
    with _XSD_LOCK:  # the schema keeps the error log of its last run: one validation at a time
        if schema.validate(tree):
            return []
        errors = list(schema.error_log)[:MAX_PROBLEMS]
    ids_by_line: dict[int, str] = {}
    for el in tree.getroot().iter():
        if isinstance(el.tag, str) and el.get("id") and el.sourceline not in ids_by_line:
            ids_by_line[el.sourceline] = el.get("id")
    return [Problem(message=f"not valid BPMN 2.0: {_short(e.message)}", line=e.line or None,
                    column=e.column or None, element_id=ids_by_line.get(e.line), rule="bpmn.schema")
            for e in errors]


def _select_process(root: Any, wanted: str | None) -> Any:
    processes = list(root.iter(f"{{{BPMN_NS}}}process"))
    executable = [p for p in processes if (p.get("isExecutable") or "").strip().lower() == "true"]
    names = ", ".join(p.get("id") or "?" for p in executable)
    if wanted is not None:
        for p in processes:
            if p.get("id") == wanted:
                if p in executable:
                    return p
                raise _invalid(f"process {wanted} is not executable", [Problem(
                    message=f"process '{wanted}' is not executable: set isExecutable=\"true\" to deploy it",
                    element_id=wanted, line=p.sourceline, rule="bpmn.process")])
        listed = f"; its executable processes are: {names}" if executable else "; none is executable"
        raise _invalid(f"no process {wanted} in this file", [Problem(
            message=f"this file has no process '{wanted}'{listed}", field="process", rule="bpmn.process")])
    if not executable:
        raise _invalid("no executable process", [Problem(
            message='no executable process: set isExecutable="true" on the process to deploy',
            line=processes[0].sourceline if processes else None, rule="bpmn.process")])
    if len(executable) > 1:
        raise _invalid("several executable processes", [Problem(
            message=f"this file has several executable processes: {names}; say which one to deploy with "
                    "the `process` field", field="process", rule="bpmn.process")])
    return executable[0]


def _scope(root: Any, top: Any) -> list[Any]:
    """The deployed process and every process of the file it calls, directly or not."""
    by_id = {p.get("id"): p for p in root.iter(f"{{{BPMN_NS}}}process")}
    scope, todo = [top], [top]
    while todo:
        for call in todo.pop().iter(f"{{{BPMN_NS}}}callActivity"):
            called = by_id.get((call.get("calledElement") or "").strip())
            if called is not None and called not in scope:
                scope.append(called)
                todo.append(called)
    return scope


COLLECTION_EXPRESSION = "{urn:incident-engine}collection-expression"


def collection_variable(activity_id: str) -> str:
    """The variable a camunda:collection expression is worked out into while its activity runs."""
    return "_collection_" + "".join(c if c.isalnum() else "_" for c in activity_id)


def _collection_name(text: str) -> str | None:
    """The variable a camunda:collection names: `items`, `${items}` or `#{items}`; None for anything else."""
    text = text.strip()
    if text[:2] in ("${", "#{") and text.endswith("}"):
        text = text[2:-1].strip()
    return text if text.isidentifier() else None


def _prepare_for_spiff(root: Any, scope: list[Any]) -> list[Problem]:
    """Drop what SpiffWorkflow would trip over but we do not run: other processes (their DMN references
    and data stores are parsed eagerly) and data stores (documentation only here). Returns warnings."""
    warnings = event_rules.prepare_references(root, scope)
    for loop in (e for p in scope for e in p.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")):
        for ns in CAMUNDA_NS:  # SpiffWorkflow reads camunda:collection as a plain variable name
            text = loop.get(f"{{{ns}}}collection") or ""
            name = _collection_name(text)
            if name:
                loop.set(f"{{{ns}}}collection", name)
            elif text.strip():  # an expression: worked out into a variable of the activity's own (multi_instance)
                loop.set(COLLECTION_EXPRESSION, text.strip())
                loop.set(f"{{{ns}}}collection", collection_variable(owner(loop).get("id") or ""))
    _unconditioned_inclusive_flows(scope)
    own = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    for process in scope:
        for call in list(process.iter(f"{{{BPMN_NS}}}callActivity")):
            if (call.get("calledElement") or "").strip() not in own:  # a child incident runs it
                call.tag = f"{{{BPMN_NS}}}serviceTask"
                for attr in [a for a in call.attrib if a.startswith("{http://camunda.org")]:
                    del call.attrib[attr]
    for process in list(root.iter(f"{{{BPMN_NS}}}process")):
        if process not in scope:
            process.getparent().remove(process)
    store_refs: set[str] = set()
    for el in list(root.iter(f"{{{BPMN_NS}}}dataStore", f"{{{BPMN_NS}}}dataStoreReference")):
        if local(el) == "dataStoreReference":
            store_refs.add(el.get("id"))
            warnings.append(Problem(
                message=f"data store reference {el.get('id')} is documentation only: this engine does not "
                        "read or write data stores", element_id=el.get("id"), line=el.sourceline,
                rule="bpmn.data_store"))
        el.getparent().remove(el)
    for assoc in list(root.iter(f"{{{BPMN_NS}}}dataInputAssociation", f"{{{BPMN_NS}}}dataOutputAssociation")):
        refs = {(c.text or "").strip() for c in assoc if local(c) in ("sourceRef", "targetRef")}
        if refs & store_refs:
            assoc.getparent().remove(assoc)
    return warnings


def _unconditioned_inclusive_flows(scope: list[Any]) -> None:
    """An inclusive gateway's outgoing flow without a condition is always taken (BPMN, Camunda 7); SpiffWorkflow
    refuses such a flow, so it gets the condition `true`."""
    for process in scope:
        gateways = {g.get("id"): g for g in process.iter(f"{{{BPMN_NS}}}inclusiveGateway")}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            gateway = gateways.get(flow.get("sourceRef"))
            if gateway is None or gateway.get("default") == flow.get("id") \
                    or any(local(c) == "conditionExpression" for c in flow):
                continue
            condition = flow.makeelement(f"{{{BPMN_NS}}}conditionExpression",
                                         {"{http://www.w3.org/2001/XMLSchema-instance}type": "tFormalExpression"})
            condition.text = "true"
            flow.append(condition)


def _name_flows(root: Any) -> None:
    """Give every sequence flow without an id one (the BPMN schema allows that, Camunda runs it): SpiffWorkflow
    indexes flows by id and silently drops the others, so the process would stop, 'completed', at its start."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for n, flow in enumerate(root.iter(f"{{{BPMN_NS}}}sequenceFlow")):
        if not flow.get("id"):
            new = f"sequenceFlow_{n}"
            while new in ids:
                new += "_"
            ids.add(new)
            flow.set("id", new)


def _rename_reserved(root: Any, scope: list[Any]) -> dict[str, str]:
    """Give flow nodes whose id SpiffWorkflow reserves a free id (new id -> original id); the original
    is put back as each task spec's bpmn_id, which is what the runtime reports."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    forward: dict[str, str] = {}
    for el in (e for process in scope for e in process.iter(*(f"{{{BPMN_NS}}}{t}" for t in SUPPORTED_NODES))):
        old = el.get("id") or ""
        if old in _RESERVED_IDS or old.endswith(_RESERVED_SUFFIXES):
            new = f"{old}_"
            while new in ids:
                new += "_"
            ids.add(new)
            forward[old] = new
            el.set("id", new)
    if forward:
        for el in (e for e in root.iter() if isinstance(e.tag, str)):
            for attr in ("sourceRef", "targetRef", "attachedToRef", "bpmnElement"):
                if el.get(attr) in forward:
                    el.set(attr, forward[el.get(attr)])
            if local(el) == "flowNodeRef" and (el.text or "").strip() in forward:
                el.text = forward[(el.text or "").strip()]
    return {new: old for old, new in forward.items()}


def _spiff(tree: Any, key: str, lines: dict[str, int], renamed: dict[str, str]) -> tuple[Any, dict[str, Any]]:
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    try:
        implicit.rewrite(tree.getroot())
        plan = compensation.rewrite(tree.getroot())
        parser = _parser_class()()
        parser.add_bpmn_xml(tree, filename=f"{key}.bpmn")
        spec, subprocess_specs = parser.get_spec(key), parser.get_subprocess_specs(key)
        for task_spec in (t for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values()):
            if getattr(task_spec, "bpmn_id", None) in renamed:
                task_spec.bpmn_id = renamed[task_spec.bpmn_id]
            elif implicit.GENERATED in (getattr(task_spec, "bpmn_id", None) or ""):
                task_spec.bpmn_id = None  # a generated split or end: not in the audit, the loop cap or task lists
        collections = {renamed.get(owner(el).get("id"), owner(el).get("id")): el.get(COLLECTION_EXPRESSION)
                       for el in tree.getroot().iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics")
                       if el.get(COLLECTION_EXPRESSION)}
        for task_spec in (t for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values()):
            if getattr(task_spec, "bpmn_id", None) in collections and hasattr(task_spec, "data_output"):
                task_spec.collection_expression = collections[task_spec.bpmn_id]
        caught = error_starts.code_variables(tree.getroot(), renamed)
        messages = error_starts.error_messages(tree.getroot(), renamed)
        for task_spec in (t for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values()):
            if getattr(task_spec, "bpmn_id", None) in caught:
                task_spec.code_variables = caught[task_spec.bpmn_id]  # engine.runtime.error_events sets them
            if getattr(task_spec, "bpmn_id", None) in messages:
                task_spec.error_message = messages[task_spec.bpmn_id]
        filters = event_rules.condition_filters(tree.getroot(), renamed)
        if filters:
            from engine.runtime.conditions import attach as attach_filters

            attach_filters([spec, *subprocess_specs.values()], filters)
        mappings = {renamed.get(el.get("id"), el.get("id")): mapping
                    for el in tree.getroot().iter() if isinstance(el.tag, str) and el.get("id")
                    for mapping in [io_mapping.read_mapping(el)[0]] if mapping is not None}
        if mappings:
            from engine.runtime.io_mapping import attach

            attach([spec, *subprocess_specs.values()], mappings)
        if plan:
            from engine.runtime import compensation as running

            running.attach([spec, *subprocess_specs.values()], plan)
        return spec, subprocess_specs
    except ValidationException as exc:
        element_id = str(getattr(exc, "id", "") or "") or None
        element_id = renamed.get(element_id or "", element_id)
        line = lines.get(element_id or "") or (exc.line_number if isinstance(exc.line_number, int) else None)
        message = str(exc.args[0] if exc.args else exc).strip().rstrip(".")
        message = TOO_LONG if "RecursionError" in message else message
        where = f" ({exc.tag} {element_id})" if element_id and getattr(exc, "tag", None) else ""
        problem = Problem(message=f"cannot build the process{where}: {message}", element_id=element_id,
                          line=line, rule="bpmn.spiff")
    except RecursionError:
        problem = Problem(message=TOO_LONG, rule="bpmn.spiff")
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises KeyError/AttributeError/... on odd files
        text = f"{type(exc).__name__}: {exc}"[:300]
        problem = Problem(message=f"cannot build the process: SpiffWorkflow failed on this file ({text})",
                          rule="bpmn.spiff")
    raise _invalid("the process cannot be built", [problem])


def expression_problems(scope: list[Any]) -> list[Problem]:
    """Compile every expression and script that would run; each refusal is a Problem."""
    from engine.expressions import ExpressionError, compile_expression, compile_script
    from engine.runtime.script_engine import TIMER_FUNCTIONS
    from engine.services import task_attributes

    problems: list[Problem] = []

    def check(el: Any, text: str | None, what: str, script: bool = False) -> None:
        if text is None or not text.strip():
            return
        try:
            (compile_script if script else compile_expression)(text, allowed_functions=TIMER_FUNCTIONS)
        except ExpressionError as err:
            shown = " ".join(text.split())
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            problems.append(problem(el, f"{what} ({shown}): {err}", "expression"))

    for el in (e for process in scope for e in process.iter() if isinstance(e.tag, str)):
        tag, ns, where = local(el), namespace(el), owner(el).get("id")
        if ns == SPIFF_NS and tag in ("preScript", "postScript"):
            check(el, el.text, f"spiffworkflow:{tag} of {where}", script=True)
        elif ns == SPIFF_NS and tag == "parameter" and el.get("value") is not None:
            check(el, el.get("value"), f"parameter '{el.get('id')}' of service task {where}")
        elif ns != BPMN_NS and tag != "inputOutput":
            continue
        elif tag == "conditionExpression":
            check(el, el.text, f"condition on flow {where}")
        elif tag in ("timeDuration", "timeDate", "timeCycle") and not event_rules.is_start_timer(el):
            if tag == "timeCycle" and event_rules.cron_problem(el) is not None:
                problems.append(event_rules.cron_problem(el))  # type: ignore[arg-type]
            elif not (tag == "timeCycle" and event_rules.is_cron_cycle(el)):
                check(el, el.text, f"timer on {where}")
        elif tag == "condition":
            check(el, el.text, f"condition of event {where}")
        elif tag in ("loopCardinality", "completionCondition", "loopCondition"):
            check(el, el.text, f"{tag} of {where}")
        elif tag == "scriptTask":
            script = next((c for c in el if local(c) == "script"), None)
            if (el.get("scriptFormat") or "").strip().lower() not in PYTHON_SCRIPT_FORMATS:
                continue
            if script is None or not (script.text or "").strip():
                problems.append(problem(el, f"script task {where} has no script", "expression"))
            else:
                check(script, script.text, f"script of task {where}", script=True)
        elif tag == "multiInstanceLoopCharacteristics" and camunda_attr(el, "collection") is not None:
            collection = (el.get(COLLECTION_EXPRESSION) or camunda_attr(el, "collection") or "").strip()
            if not _collection_name(collection) and not collection.startswith("_collection_"):
                check(el, collection, f"camunda:collection of {where}")
        elif tag == "inputOutput" and ns in CAMUNDA_NS and el.getparent() is not None \
                and local(el.getparent()) == "extensionElements":
            mapping, _ = io_mapping.read_mapping(el.getparent().getparent())
            for name, value in (*mapping.inputs, *mapping.outputs) if mapping else ():
                for text, is_script in io_mapping.expressions(value):
                    if is_script:
                        *body, last = [line for line in text.strip().splitlines() if line.strip()] or [""]
                        check(el, "\n".join(body), f"script parameter '{name}' of {where}", script=True)
                        check(el, last, f"script parameter '{name}' of {where}")
                    else:
                        check(el, text, f"parameter '{name}' of {where}")
        elif ns in CAMUNDA_NS and tag in ("in", "out") and local(el.getparent().getparent()) == "callActivity":
            for attr in ("sourceExpression", "businessKey"):
                check(el, el.get(attr), f"camunda:{tag} {attr} of call activity {where}")
        elif ns != BPMN_NS:
            continue
        elif tag == "userTask":
            for attr in ("candidateGroups", "candidateUsers", "assignee"):
                for item in split_identities(camunda_attr(el, attr) or ""):
                    if item.startswith(("${", "#{")):
                        check(el, item, f"camunda:{attr} of task {where}")
                    else:  # text with ${...} parts, such as kermit_${loopCounter}
                        for part in re.findall(r"[$#]\{([^{}]*)\}", item):
                            check(el, part, f"camunda:{attr} of task {where}")
            if len(camunda_attr(el, "formKey") or "") > 500:
                problems.append(problem(el, f"camunda:formKey of task {where} is longer than 500 characters",
                                        "expression"))
            for attr, kind in (("dueDate", "date"), ("followUpDate", "date"), ("priority", "priority")):
                raw = (camunda_attr(el, attr) or "").strip()
                if raw.startswith(("${", "#{")):
                    check(el, raw, f"camunda:{attr} of task {where}")
                elif raw and (why := task_attributes.constant_problem(raw, kind)):
                    problems.append(problem(el, f"camunda:{attr} of task {where} ('{raw}') {why}", "expression"))
    return capped(problems)


def load_procedure(data: bytes, *, process: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
                   limits: ModelLimits | None = None) -> ProcedureDefinition:
    """Parse, check and build one executable process of an uploaded BPMN file.

    Raises TooLarge, or ProcedureInvalid carrying one Problem per thing wrong (line, column, element id).
    """
    tree = parse_xml(data, max_bytes=max_bytes)
    root = tree.getroot()
    _check_root(root)
    dialects.read_operaton_as_camunda(root)
    problems = zeebe_problems(root)
    if problems:
        raise _invalid("this is a Camunda 8 (Zeebe) model, which this engine does not run", problems)
    problems = _xsd_problems(tree)
    if problems:
        raise _invalid("the file is not valid BPMN 2.0", problems)
    _name_flows(root)
    top = _select_process(root, process)
    key = top.get("id")
    scope = _scope(root, top)
    graph = read_graph(top, scope)
    problems = [*support_problems(scope, top), *graph.problems, *expression_problems(scope), *throw_rules.problems(scope),
                *containment_problems(scope, graph, limits or ModelLimits())]
    if problems:
        raise _invalid(f"process {key} cannot run on this engine", problems)
    lines = {el.get("id"): el.sourceline for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    warnings = [*graph.warnings, *camunda_attributes.warnings(scope), *containment_warnings(graph),
                *compensation.problems(scope, problem)[1],
                *_prepare_for_spiff(root, scope)]
    spec, subprocess_specs = _spiff(tree, key, lines, _rename_reserved(root, scope))
    return ProcedureDefinition(key=key, name=(top.get("name") or key).strip(),
                               process_properties=properties(top), user_tasks=graph.user_tasks,
                               nodes=graph.nodes, flows=graph.flows, lanes=graph.lanes, spec=spec,
                               subprocess_specs=subprocess_specs, warnings=tuple(warnings))


def build_spec(data: bytes, key: str) -> tuple[Any, dict[str, Any]]:
    """Rebuild the SpiffWorkflow spec of a stored, already validated procedure (same parser setup)."""
    tree = parse_xml(data, max_bytes=max(len(data), DEFAULT_MAX_BYTES))
    root = tree.getroot()
    _check_root(root)
    dialects.read_operaton_as_camunda(root)
    _name_flows(root)
    top = _select_process(root, key)
    lines = {el.get("id"): el.sourceline for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    scope = _scope(root, top)
    _prepare_for_spiff(root, scope)
    return _spiff(tree, key, lines, _rename_reserved(root, scope))
