"""A procedure version as the plain outline a briefing compares: tasks, checks, timers and who works it."""
from __future__ import annotations

from typing import Any

from engine.bpmn.model import ProcedureDefinition

_TASK_TYPES = {"userTask": "user", "manualTask": "manual", "serviceTask": "service", "sendTask": "service"}


def _static_groups(groups: tuple[str, ...]) -> list[str]:
    """Candidate groups written as names; `${...}` expressions are resolved per incident, so left out."""
    return [g for g in groups if g and not g.strip().startswith(("${", "#{"))]


def _tasks(definition: ProcedureDefinition) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for node in definition.nodes.values():
        kind = _TASK_TYPES.get(node.type)
        if kind is None:
            continue
        entry: dict[str, Any] = {"name": node.name or node.id, "kind": kind, "lane": node.lane}
        user_task = definition.user_task(node.id)
        if user_task is not None:
            entry["candidate_groups"] = _static_groups(user_task.candidate_groups)
            entry["fields"] = [{"id": f.id, "type": f.type, "required": f.required} for f in user_task.form]
        if node.topic:
            entry["topic"] = node.topic
        found[node.id] = entry
    return found


def _checks(definition: ProcedureDefinition) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for node in definition.nodes.values():
        name = node.properties.get("check")
        if node.type != "exclusiveGateway" or not name:
            continue
        passing = [f for f in definition.outgoing(node.id) if not f.is_default and f.condition]
        failing = [f for f in definition.outgoing(node.id) if f.is_default]
        found[name] = {"gateway": node.id, "name": node.name or node.id,
                       "pass_condition": passing[0].condition if passing else None,
                       "on_fail": failing[0].target if failing else None}
    return found


def _timers(definition: ProcedureDefinition) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for node in definition.nodes.values():
        if node.timer is None:
            continue
        found[node.id] = {"name": node.name or node.id, "kind": node.timer.kind,
                          "expression": node.timer.expression, "attached_to": node.attached_to,
                          "interrupting": node.cancel_activity if node.type == "boundaryEvent" else None,
                          "sla": node.properties.get("sla", "").lower() == "true"}
    return found


def audience(outline_: dict[str, Any]) -> list[str]:
    """Every lane and candidate group the procedure names: the people a briefing goes to."""
    groups = list(outline_.get("lanes", []))
    for task in outline_.get("tasks", {}).values():
        for group in [task.get("lane"), *task.get("candidate_groups", [])]:
            if group and group not in groups:
                groups.append(group)
    return groups


def outline(definition: ProcedureDefinition, purpose: str | None = None) -> dict[str, Any]:
    """The outline of one version; `purpose` is the process documentation (see `purpose_of`)."""
    return {"key": definition.key, "name": definition.name,
            "purpose": purpose or definition.process_properties.get("purpose"),
            "lanes": list(definition.lanes), "tasks": _tasks(definition), "checks": _checks(definition),
            "timers": _timers(definition),
            "required_checks": [c.strip() for c in definition.process_properties.get("required_checks", "").split(",")
                                if c.strip()]}


def purpose_of(bpmn: bytes, key: str) -> str | None:
    """The `bpmn:documentation` of process `key` in an already accepted file (parsed with the hardened parser)."""
    from engine.bpmn.support import BPMN_NS, local
    from engine.bpmn.xmlsafe import parse_xml

    root = parse_xml(bpmn, max_bytes=max(len(bpmn), 1)).getroot()
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == key:
            docs = [c.text.strip() for c in process if local(c) == "documentation" and c.text and c.text.strip()]
            return "\n\n".join(docs) or None
    return None
