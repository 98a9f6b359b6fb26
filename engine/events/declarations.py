"""The messages, signals, timer and conditional start events a procedure declares, read once from its definition at upload."""
from __future__ import annotations

from dataclasses import dataclass

from engine.bpmn.model import ProcedureDefinition

_THROWS = frozenset({"intermediateThrowEvent", "endEvent", "sendTask"})
CONDITION = "condition"  # the kind of a conditional start event of the process (its condition is in the spec)


@dataclass(frozen=True)
class Declaration:
    """One event of a procedure version: `kind` message, signal, timer or condition; `role` start (of the process
    itself), catch (incl. event subprocess starts) or throw."""

    kind: str
    role: str
    name: str | None
    element_id: str
    timer_kind: str | None = None
    timer_expression: str | None = None


def declarations(definition: ProcedureDefinition) -> list[Declaration]:
    found: list[Declaration] = []
    for node in definition.nodes.values():
        top_start = node.type == "startEvent" and node.parent is None
        if node.type in ("receiveTask", "sendTask"):
            kind = "message"
        elif node.event_kind in ("message", "signal"):
            kind = node.event_kind
        elif top_start and node.event_kind == "timer" and node.timer is not None:
            found.append(Declaration("timer", "start", None, node.id, node.timer.kind, node.timer.expression))
            continue
        elif top_start and node.event_kind == "conditional":
            found.append(Declaration(CONDITION, "start", None, node.id))
            continue
        else:
            continue
        if node.event_name:
            role = "start" if top_start else "throw" if node.type in _THROWS else "catch"
            found.append(Declaration(kind, role, node.event_name, node.id))
    return sorted(found, key=lambda d: (d.kind, d.role, d.name or "", d.element_id))
