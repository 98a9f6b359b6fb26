"""Camunda 7 attributes and extension elements this engine accepts without acting on them: each a lint warning.

Nothing in a Camunda file is accepted and then silently ignored: an attribute or element is honoured
(forms, Camunda Forms, DMN decisions, candidates, assignee, due and follow-up dates, priority, initiator,
external topics, input/output mappings, signal payloads, multi-instance collections), refused with a 422
(Java code, listeners, connectors, scripts in other languages: engine.bpmn.support), or named here with
what it means here.
"""
from __future__ import annotations

from typing import Any

from engine.errors import Problem

_TRANSACTION = ("every step already ends in one database transaction where the incident waits (a person, "
                "a timer, a message, an external worker), so there is no job to make asynchronous")
MEANING: dict[str, str] = {
    "asyncBefore": _TRANSACTION,
    "asyncAfter": _TRANSACTION,
    "async": _TRANSACTION,
    "exclusive": "incidents are locked one at a time in the database, so every step is exclusive already",
    "jobPriority": "there is no job executor; timers and deliveries are taken in due order",
    "taskPriority": "external tasks are fetched in creation order (or by createTime sorting)",
    "historyTimeToLive": "history is the append-only audit trail, kept as the deployment's retention "
                         "policy says, not per procedure",
    "versionTag": "versions are numbered by upload; governance decides which one is active",
    "isStartableInTasklist": "who may start incidents is the incidents.start permission",
    "candidateStarterGroups": "who may start incidents is the incidents.start permission",
    "candidateStarterUsers": "who may start incidents is the incidents.start permission",
    "errorCodeVariable": "only a catching error event (event subprocess start, boundary event) stores the code",
    "errorMessageVariable": "only a catching error event (event subprocess start, boundary event) stores the message",
    "escalationCodeVariable": "only a catching escalation event (event subprocess start, boundary event) stores "
                              "the code",
    "resultVariable": "a script task's assignments are its result",
    "formRef": "a start form is not shown: an incident starts with the data posted to it",
    "formRefBinding": "a start form is not shown: an incident starts with the data posted to it",
    "formRefVersion": "a start form is not shown: an incident starts with the data posted to it",
    "diagramRelationId": "it only links the Modeler's diagram to its other resources",
    "failedJobRetryTimeCycle": "external tasks retry as their workers say (retries, retryTimeout)",
    "formProperty": "legacy form properties are not read; use camunda:formData/formField",
    "potentialStarter": "who may start incidents is the incidents.start permission",
    "formKey": "a start form is not shown: an incident starts with the data posted to it",
    "formHandlerClass": "no Java form handler runs here; forms are validated by this engine",
    "in": "a call activity of a process in the same file passes all variables in and out",
    "out": "a call activity of a process in the same file passes all variables in and out",
    "calledElementBinding": "the called process is the one in the same file",
    "calledElementVersion": "the called process is the one in the same file",
    "calledElementVersionTag": "the called process is the one in the same file",
    "calledElementTenantId": "tenants are not modelled here",
}
# attribute -> the elements where this engine honours it
HONOURED: dict[str, frozenset[str]] = {
    "assignee": frozenset({"userTask"}), "candidateGroups": frozenset({"userTask"}),
    "candidateUsers": frozenset({"userTask"}), "dueDate": frozenset({"userTask"}),
    "followUpDate": frozenset({"userTask"}), "priority": frozenset({"userTask"}),
    "formKey": frozenset({"userTask"}), "initiator": frozenset({"startEvent"}),
    "type": frozenset({"serviceTask", "sendTask", "businessRuleTask", "intermediateThrowEvent", "endEvent",
                       "messageEventDefinition"}),
    "topic": frozenset({"serviceTask", "sendTask", "businessRuleTask", "intermediateThrowEvent", "endEvent",
                        "messageEventDefinition"}),
    "formRef": frozenset({"userTask", "startEvent"}), "formRefBinding": frozenset({"userTask", "startEvent"}),
    "formRefVersion": frozenset({"userTask", "startEvent"}),
    "formRefVersionTag": frozenset({"userTask", "startEvent"}),
    **dict.fromkeys(("decisionRef", "decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag",
                     "mapDecisionResult"), frozenset({"businessRuleTask"})),
    "resultVariable": frozenset({"businessRuleTask"}),
    "collection": frozenset({"multiInstanceLoopCharacteristics"}),
    "elementVariable": frozenset({"multiInstanceLoopCharacteristics"}),
    "variableName": frozenset({"conditionalEventDefinition"}),
    "variableEvents": frozenset({"conditionalEventDefinition"}),
}
# handled elsewhere: refused by engine.bpmn.support (Java, scripts, listeners) or read by the model
_ELSEWHERE_ATTRIBUTES = frozenset({"class", "delegateExpression", "expression", "resource"})
HONOURED_ELEMENTS = frozenset({"formData", "formField", "validation", "constraint", "properties", "property",
                               "value", "inputOutput", "inputParameter", "outputParameter", "list", "map",
                               "entry", "script", "executionListener", "taskListener", "connector",
                               "connectorId", "field", "string", "expression"})


def _support() -> Any:
    from engine.bpmn import support

    return support


def warnings(scope: list[Any]) -> list[Problem]:
    """One warning per Camunda attribute or extension element that has no effect here."""
    s = _support()
    found: list[Problem] = []
    for el in (e for process in scope for e in [process, *process.iter()] if isinstance(e.tag, str)):
        tag = s.local(el)
        for attr in el.attrib:
            ns, _, name = attr[1:].partition("}") if attr.startswith("{") else ("", "", attr)
            if ns not in s.CAMUNDA_NS or name in _ELSEWHERE_ATTRIBUTES or tag in HONOURED.get(name, ()):
                continue
            if tag == "startEvent" and name == "formKey" and (el.get(attr) or "").strip().startswith(
                    "camunda-forms:deployment:"):
                continue  # a start form of the deployment: the start data is validated against it
            if name in ("errorCodeVariable", "errorMessageVariable", "escalationCodeVariable") \
                    and el.getparent() is not None and s.local(el.getparent()) in ("startEvent", "boundaryEvent"):
                continue  # engine.runtime.error_events stores what was caught there
            if tag == "callActivity" and name.startswith("calledElement") and _calls_another_file(el):
                continue  # engine.bpmn.model.call_def reads the binding of a call that starts a child incident
            found.append(_warning(el, f"camunda:{name}", tag, name))
        if s.namespace(el) in s.CAMUNDA_NS and tag not in HONOURED_ELEMENTS and not _signal_payload(el) \
                and not _mapping_of_a_child_incident(el):
            parent = el.getparent()
            if parent is not None and s.namespace(parent) in s.CAMUNDA_NS:
                continue  # the outer camunda element is named once
            found.append(_warning(el, f"camunda:{tag}", "extension element", tag))
    return found


def _calls_another_file(el: Any) -> bool:
    s = _support()
    called = (el.get("calledElement") or "").strip()
    return called not in {p.get("id") for p in el.getroottree().getroot().iter(f"{{{s.BPMN_NS}}}process")}


def _mapping_of_a_child_incident(el: Any) -> bool:
    """camunda:in/out of a call activity whose process is in another file (a child incident honours them)."""
    s = _support()
    holder = el.getparent().getparent() if el.getparent() is not None else None
    return s.local(el) in ("in", "out") and holder is not None and s.local(holder) == "callActivity" \
        and _calls_another_file(holder)


def _signal_payload(el: Any) -> bool:
    """camunda:in on a signal event definition: what a thrown signal carries (engine.bpmn.model)."""
    s = _support()
    holder = el.getparent().getparent() if el.getparent() is not None else None
    return s.local(el) == "in" and holder is not None and s.local(holder) == "signalEventDefinition"


def _warning(el: Any, what: str, tag: str, name: str) -> Problem:
    s = _support()
    where = s.owner(el).get("id") or tag
    meaning = MEANING.get(name, "this engine does not read it")
    return s.problem(el, f"{what} on {where} has no effect here: {meaning}", "camunda.ignored")
