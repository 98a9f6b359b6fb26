"""What this engine cannot run (Camunda 8 models, Java delegates, DMN, ...), each as a Problem; events: event_rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from engine.errors import Problem

from . import compensation, event_rules, io_mapping

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = ("http://camunda.org/schema/1.0/bpmn", "http://activiti.org/bpmn")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
MODELER_NS = "http://camunda.org/schema/modeler/1.0"
MAX_PROBLEMS = 50
PYTHON_SCRIPT_FORMATS = frozenset(
    {"", "python", "python3", "py", "text/python", "text/x-python", "application/x-python", "spiff"}
)
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
SUPPORTED_NODES = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                             "boundaryEvent", "task", "userTask", "manualTask", "scriptTask", "serviceTask",
                             "sendTask", "receiveTask", "businessRuleTask", "subProcess", "transaction", "adHocSubProcess", "callActivity",
                             "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"})
CONTAINER_EXTRAS = frozenset({"sequenceFlow", "laneSet", "dataObject", "dataObjectReference",
                              "dataStoreReference", "textAnnotation", "association", "group", "documentation",
                              "extensionElements", "ioSpecification", "property", "auditing", "monitoring",
                              "ioBinding", "correlationSubscription", "supports", "performer",
                              "potentialOwner", "humanPerformer", "resourceRole", "incoming", "outgoing",
                              "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
                              "completionCondition", "dataInputAssociation", "dataOutputAssociation"})
REFUSED_NODES = {
    "complexGateway": "complex gateways have no defined execution semantics in this engine",
}
_DETAILS = frozenset({"conditionExpression", "formalExpression", "timeDuration", "timeDate", "timeCycle",
                      "condition", "script", "loopCardinality", "completionCondition", "loopCondition",
                      "documentation", "extensionElements"})
JAVA_ATTRIBUTES = ("class", "delegateExpression", "expression")
NOT_SUPPORTED = "is not supported by this engine"


def local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def namespace(el: Any) -> str | None:
    tag = el.tag
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else None


def camunda_attr(el: Any, name: str) -> str | None:
    for ns in CAMUNDA_NS:
        value = el.get(f"{{{ns}}}{name}")
        if value is not None:
            return value
    return None


def owner(el: Any) -> Any:
    """The BPMN element a problem belongs to: the nearest element with an id that is not a detail
    (event definitions, loop characteristics, expressions and extension content have ids of their own)."""
    node = el
    while node is not None and (node.get("id") is None
                                or namespace(node) != BPMN_NS
                                or local(node).endswith(("EventDefinition", "LoopCharacteristics"))
                                or local(node) in _DETAILS):
        node = node.getparent()
    return node if node is not None else el


def split_identities(raw: str) -> tuple[str, ...]:
    """Split a comma-separated list of groups or users, keeping `${a, b}` expressions whole."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in raw:
        depth += (ch == "{") - (ch == "}" and depth > 0)
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return tuple(item.strip() for item in items if item.strip())


def problem(el: Any, message: str, rule: str) -> Problem:
    target = owner(el)
    return Problem(message=message, element_id=target.get("id"), line=el.sourceline, rule=rule)


def _elements(root: Any) -> Iterator[Any]:
    return (el for el in root.iter() if isinstance(el.tag, str))


def zeebe_problems(root: Any) -> list[Problem]:
    """One problem per element carrying Camunda 8 (Zeebe) content, anywhere in the document."""
    problems: list[Problem] = []
    found: dict[Any, list[str]] = {}
    for el in _elements(root):
        parent = el.getparent()
        if namespace(el) == ZEEBE_NS and (parent is None or namespace(parent) != ZEEBE_NS):
            found.setdefault(owner(parent if parent is not None else el), []).append(f"zeebe:{local(el)}")
        for attr in (a for a in el.attrib if a.startswith(f"{{{ZEEBE_NS}}}")):
            found.setdefault(owner(el), []).append(f"zeebe:{etree.QName(attr).localname}")
    # The "Camunda Cloud" marker alone says where a modeller meant the file to run, not what it contains:
    # a file without Zeebe content is plain BPMN and is judged by its content.
    platform = root.get(f"{{{MODELER_NS}}}executionPlatform")
    if found and platform and platform.strip().lower() == "camunda cloud":
        version = root.get(f"{{{MODELER_NS}}}executionPlatformVersion") or "8"
        problems.append(problem(root,
                                f"Camunda 8 (Zeebe) model: this file was made for Camunda Cloud {version}, "
                                f"which {NOT_SUPPORTED}; model it for Camunda 7 (Camunda Platform) instead",
                                "unsupported.zeebe"))
    for target, items in found.items():
        items = list(dict.fromkeys(items))
        where = target.get("id") or local(target)
        problems.append(problem(target, f"Camunda 8 (Zeebe) model: {', '.join(items)} on {where} "
                                f"{'is' if len(items) == 1 else 'are'} not supported by this engine (it runs "
                                "BPMN with Camunda 7 extensions); model it for Camunda 7 instead",
                                "unsupported.zeebe"))
    return capped(problems)


def capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    extra = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS],
            Problem(message=f"... and {extra} more problems of the same kind", rule=problems[0].rule)]


def event_kinds(el: Any) -> list[str]:
    return [local(c)[: -len("EventDefinition")]
            for c in el
            if namespace(c) == BPMN_NS and local(c).endswith("EventDefinition")]


def _service_problems(el: Any, tag: str) -> list[Problem]:
    name = el.get("id")
    out: list[Problem] = []
    for attr in JAVA_ATTRIBUTES:
        if camunda_attr(el, attr):
            out.append(problem(el,
                               f"{tag} {name} uses camunda:{attr}: a Java delegate, which cannot run here; "
                               'use an external topic (camunda:type="external" camunda:topic="...")',
                               "unsupported.java"))
    if any(local(c) == "connector" and namespace(c) in CAMUNDA_NS
           for ext in el
           for c in ext
           if local(ext) == "extensionElements"):
        out.append(problem(el,
                           f"{tag} {name} uses a Camunda Connect connector, which {NOT_SUPPORTED}; use an "
                           'external topic (camunda:type="external" camunda:topic="...")',
                           "unsupported.java"))
    kind = camunda_attr(el, "type")
    if kind is not None and kind.strip() != "external":
        out.append(problem(el, f'{tag} {name} has camunda:type="{kind}", which {NOT_SUPPORTED}; only '
                           'camunda:type="external" with a camunda:topic is', "unsupported.service"))
    elif kind is not None and not (camunda_attr(el, "topic") or "").strip():
        out.append(problem(el, f"{tag} {name} is an external task without a camunda:topic, which "
                           f"{NOT_SUPPORTED}: the topic names the worker that does the job",
                           "unsupported.service"))
    return out


def _call_problems(el: Any, name: str | None) -> list[Problem]:
    """A call of a process in another file runs as a child incident; what that cannot honour is refused."""
    called = (el.get("calledElement") or "").strip()
    processes = {p.get("id") for p in el.getroottree().getroot().iter(f"{{{BPMN_NS}}}process")}
    if called in processes:
        return []
    out: list[Problem] = []
    if not called or "${" in called or "#{" in called:
        out.append(problem(el, f"call activity {name}: a calledElement expression ({called or 'empty'}) "
                           f"{NOT_SUPPORTED}; name the process", "unsupported.call"))
    if camunda_attr(el, "caseRef"):
        out.append(problem(el, f"call activity {name} calls a CMMN case, which {NOT_SUPPORTED}", "unsupported.call"))
    for attr in ("calledElementTenantId", "variableMappingClass", "variableMappingDelegateExpression"):
        if camunda_attr(el, attr):
            out.append(problem(el, f"call activity {name} uses camunda:{attr}, which {NOT_SUPPORTED}",
                               "unsupported.call"))
    if any(local(c) == "multiInstanceLoopCharacteristics" or local(c) == "standardLoopCharacteristics"
           for c in el):
        out.append(problem(el, f"call activity {name} of another file's process is a loop or multi-instance, which "
                           f"{NOT_SUPPORTED} yet; call it from a loop of the flow instead", "unsupported.call"))
    for item in (c for ext in el if local(ext) == "extensionElements" for c in ext
                 if local(c) in ("in", "out") and namespace(c) in CAMUNDA_NS):
        if item.get("businessKey") is not None and local(item) == "in":
            continue
        if (item.get("local") or "").strip().lower() == "true" and item.get("sourceExpression") is not None:
            out.append(problem(item, f"call activity {name}: camunda:{local(item)} local=\"true\" with a "
                               "sourceExpression is refused: local reads variables by name (source, or "
                               "variables=\"all\"), and an expression sees every variable of the call activity",
                               "unsupported.call"))
        if (item.get("variables") or "").strip() == "all":
            continue
        target = (item.get("target") or "").strip()
        if not (item.get("source") or item.get("sourceExpression")) or not target.isidentifier():
            out.append(problem(item, f"call activity {name}: camunda:{local(item)} needs source or sourceExpression "
                               "and a target variable name (or variables=\"all\")", "unsupported.call"))
    return out


def _business_rule_problems(el: Any, name: str | None) -> list[Problem]:
    out = [problem(el, f"business rule task {name} uses camunda:{attr}: a Java delegate, which cannot run here; "
                   "use camunda:decisionRef with a DMN file deployed beside the BPMN", "unsupported.java")
           for attr in (*JAVA_ATTRIBUTES, "type") if camunda_attr(el, attr)]
    ref = (camunda_attr(el, "decisionRef") or "").strip()
    if not ref and not out:
        out.append(problem(el, f"business rule task {name} has no camunda:decisionRef, so it cannot run here: "
                           "name the DMN decision it evaluates", "unsupported.decision"))
    elif "${" in ref or "#{" in ref:
        out.append(problem(el, f"business rule task {name}: a decisionRef expression ({ref}) {NOT_SUPPORTED}; "
                           "name the decision", "unsupported.decision"))
    mapping = (camunda_attr(el, "mapDecisionResult") or "resultList").strip()
    if mapping not in ("resultList", "singleEntry", "singleResult", "collectEntries"):
        out.append(problem(el, f"business rule task {name}: mapDecisionResult '{mapping}' is not one of "
                           "resultList, singleEntry, singleResult, collectEntries", "unsupported.decision"))
    if camunda_attr(el, "decisionRefTenantId"):
        out.append(problem(el, f"business rule task {name}: tenants are {NOT_SUPPORTED}", "unsupported.decision"))
    variable = (camunda_attr(el, "resultVariable") or "").strip()
    if variable and not variable.isidentifier():
        out.append(problem(el, f"business rule task {name}: resultVariable '{variable}' must be a variable name",
                           "unsupported.decision"))
    return out


def _element_problems(el: Any, top: Any) -> list[Problem]:
    tag, ns, name = local(el), namespace(el), el.get("id")
    parent = el.getparent()
    if ns in CAMUNDA_NS and tag in ("executionListener", "taskListener"):
        return [problem(el, f"camunda:{tag} on {owner(parent).get('id')}: listeners run Java or script code "
                        f"inside Camunda, which {NOT_SUPPORTED}", "unsupported.listener")]
    if ns != BPMN_NS:
        return []
    if parent is not None and local(parent) in CONTAINERS and namespace(parent) == BPMN_NS:
        if tag in REFUSED_NODES:
            return [problem(el, f"{tag} {name} {NOT_SUPPORTED}: {REFUSED_NODES[tag]}", "unsupported.element")]
        if tag not in SUPPORTED_NODES and tag not in CONTAINER_EXTRAS:
            return [problem(el, f"bpmn:{tag} {name or ''} {NOT_SUPPORTED}".replace("  ", " "),
                            "unsupported.element")]
    out: list[Problem] = io_mapping.read_mapping(el)[1]
    if tag in ("serviceTask", "sendTask"):
        out += _service_problems(el, tag)
        if tag == "sendTask":
            out += event_rules.reference_problems(el, tag)
    elif tag == "businessRuleTask":
        out += _business_rule_problems(el, name)
    elif tag == "scriptTask":
        fmt = (el.get("scriptFormat") or "").strip().lower()
        if fmt not in PYTHON_SCRIPT_FORMATS:
            out.append(
                problem(el,
                        f"script task {name} is written in '{el.get('scriptFormat')}', which {NOT_SUPPORTED}"
                        ": it runs only assignments in its Python-like expression language "
                        '(scriptFormat="python")', "unsupported.script")
            )
        if camunda_attr(el, "resource"):
            out.append(problem(el, f"script task {name} loads its script from camunda:resource, which "
                               f"{NOT_SUPPORTED}; put the script in the model", "unsupported.script"))
    elif tag == "conditionExpression":
        language = (el.get("language") or "").strip().lower()
        if (language
            and language not in PYTHON_SCRIPT_FORMATS
            and "juel" not in language
            and "xpath" not in language):
            out.append(problem(el,
                               f"condition on flow {owner(el).get('id')} is written in '{el.get('language')}'"
                               f", which {NOT_SUPPORTED}", "unsupported.script"))
    elif tag == "callActivity":
        out += _call_problems(el, name)
    elif tag == "messageEventDefinition":
        out += [problem(el, f"the message event {owner(el).get('id')} uses camunda:{attr}: a Java delegate, "
                        'which cannot run here; use an external topic (camunda:type="external" '
                        'camunda:topic="...")', "unsupported.java")
                for attr in JAVA_ATTRIBUTES if camunda_attr(el, attr)]
    elif tag in ("startEvent", "intermediateCatchEvent", "boundaryEvent", "intermediateThrowEvent",
                 "endEvent"):
        out += event_rules.event_problems(el, tag)
    elif tag == "receiveTask":
        out += event_rules.reference_problems(el, tag)
    return out


def support_problems(scope: list[Any], top: Any) -> list[Problem]:
    """Problems for everything in the deployed process (and the processes it calls) that cannot run here."""
    problems: list[Problem] = []
    for process in scope:
        for el in _elements(process):
            problems += _element_problems(el, top)
    problems += compensation.problems(scope, problem)[0]
    return capped(problems)
