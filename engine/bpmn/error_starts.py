"""Error and escalation start events of event subprocesses, read as SpiffWorkflow 3.2 does not.

SpiffWorkflow's StartEventParser reads message, signal, timer and conditional definitions only, so an
error or escalation start event became a none start and its event subprocess ran as soon as its scope
started. Here such a start keeps its definition: the event subprocess becomes one of its scope's triggers
(`BpmnStartTask.trigger_specs`), started by engine.runtime.error_events when the error or escalation is
thrown in that scope.
"""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.event_parsers import (
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.camunda.parser.event_parsers import CamundaStartEventParser

_PLAIN = [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH]


def _in_event_subprocess(node: Any) -> bool:
    parent = node.getparent()
    return parent is not None and str(parent.tag).endswith("}subProcess") and parent.get("triggeredByEvent") == "true"


class EventSubprocessStartParser(CamundaStartEventParser):
    """A start event; in an event subprocess, its error or escalation definition is kept."""

    def create_task(self) -> Any:
        paths = [*_PLAIN, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH] if _in_event_subprocess(self.node) else _PLAIN
        task = self._create_task(self.get_event_definition(paths))
        self.spec.start.connect(task)
        return task


CODE_VARIABLES = {"errorCodeVariable": "code", "errorMessageVariable": "message", "escalationCodeVariable": "code"}
CATCHERS = ("startEvent", "boundaryEvent")


def code_variables(root: Any, renamed: dict[str, str]) -> dict[str, dict[str, str]]:
    """Catching event id -> {"code": variable, "message": variable}: where camunda:errorCodeVariable,
    errorMessageVariable and escalationCodeVariable put what was caught."""
    from engine.bpmn.support import BPMN_NS, CAMUNDA_NS, local

    found: dict[str, dict[str, str]] = {}
    for el in root.iter(f"{{{BPMN_NS}}}errorEventDefinition", f"{{{BPMN_NS}}}escalationEventDefinition"):
        holder = el.getparent()
        if holder is None or local(holder) not in CATCHERS:
            continue
        for ns in CAMUNDA_NS:
            for attr, what in CODE_VARIABLES.items():
                if (el.get(f"{{{ns}}}{attr}") or "").strip():
                    key = holder.get("id") or ""
                    found.setdefault(renamed.get(key, key), {})[what] = el.get(f"{{{ns}}}{attr}").strip()
    return found


def error_messages(root: Any, renamed: dict[str, str]) -> dict[str, str]:
    """Error end event id -> the camunda:errorMessage of the error it throws (what errorMessageVariable gets)."""
    from engine.bpmn.support import BPMN_NS, CAMUNDA_NS

    messages = {e.get("id"): e.get(f"{{{ns}}}errorMessage") for e in root.iter(f"{{{BPMN_NS}}}error")
                for ns in CAMUNDA_NS if e.get(f"{{{ns}}}errorMessage")}
    found = {}
    for el in root.iter(f"{{{BPMN_NS}}}errorEventDefinition"):
        holder = el.getparent()
        if holder is not None and el.get("errorRef") in messages:
            key = holder.get("id") or ""
            found[renamed.get(key, key)] = messages[el.get("errorRef")]
    return found
