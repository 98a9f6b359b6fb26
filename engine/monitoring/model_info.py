"""What monitoring needs from a procedure's graph: tasks and lanes, SLA timers, gateways, what precedes a check."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.checks.declared import check_name

_DECIDING = ("exclusiveGateway", "inclusiveGateway")


@dataclass(frozen=True)
class ModelInfo:
    """Plain facts about one procedure version's graph (no SpiffWorkflow objects), for metrics and rules."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)      # user task id -> {name, lane}
    timers: dict[str, dict[str, Any]] = field(default_factory=dict)     # SLA timer id -> {name, task, lane}
    gateways: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # gateway id -> its flows
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)     # gateway id -> {check, before}


def _user_tasks_before(definition: ProcedureDefinition, node_id: str) -> list[str]:
    """The user tasks a token leaves last before reaching `node_id` (walking back through non-tasks)."""
    found: list[str] = []
    seen = {node_id}
    todo = [f.source for f in definition.incoming(node_id)]
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.add(current)
        node = definition.nodes.get(current)
        if node is None:
            continue
        if node.type == "userTask":
            found.append(current)
        else:
            todo.extend(f.source for f in definition.incoming(current))
    return found


def model_info(definition: ProcedureDefinition) -> ModelInfo:
    info = ModelInfo()
    for task in definition.user_tasks:
        info.tasks[task.id] = {"name": task.name, "lane": task.lane}
    for node in definition.nodes.values():
        if node.timer is not None and node.properties.get("sla", "").lower() == "true":
            attached = definition.nodes.get(node.attached_to or "")
            info.timers[node.id] = {"name": node.name, "task": node.attached_to,
                                    "lane": attached.lane if attached else None}
        if node.type in _DECIDING and len(node.outgoing) > 1:
            info.gateways[node.id] = [{"flow": f.id, "target": f.target, "name": f.name}
                                      for f in definition.outgoing(node.id)]
            name = check_name(node)
            if name:
                info.checks[node.id] = {"check": name, "before": _user_tasks_before(definition, node.id)}
    return info
