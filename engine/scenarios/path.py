"""The path an incident took, read from its audit trail (never from the workflow state, which is pruned).

The path is the elements that completed, in order. A sequence flow was taken when its source completed
and sent a token along it: a decision gateway says which flows it took; any other element sends one down
every unconditioned outgoing flow (BPMN's uncontrolled flow), and down a conditioned one only when its
target was then reached; an event-based gateway's flow counts when the event behind it fired.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn.model import ProcedureDefinition

_COMPLETING_KINDS = ("task", "gateway", "timer_fired")
_ENTERED = ("ready", "started", "waiting", "completed")
DECISION_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")


@dataclass
class Trail:
    """What one incident's audit rows say about the model: path, flows, checks, fired boundary events."""

    path: list[str] = field(default_factory=list)
    flows: set[str] = field(default_factory=set)
    entered: set[str] = field(default_factory=set)
    checks: dict[str, list[str]] = field(default_factory=dict)  # check name -> outcomes in order
    check_gateways: dict[str, str] = field(default_factory=dict)  # check name -> gateway id
    boundary_fired: set[str] = field(default_factory=set)
    sla_breached: list[str] = field(default_factory=list)


def _completed(row: Mapping[str, Any]) -> bool:
    return row.get("kind") in _COMPLETING_KINDS and row.get("to_state") == "completed" and bool(row.get("element_id"))


def read_trail(definition: ProcedureDefinition, rows: Iterable[Mapping[str, Any]]) -> Trail:
    """The Trail of one incident from its audit rows, oldest first."""
    trail = Trail()
    pending: dict[str, set[str]] = {}  # target element -> flows that wait for it to be reached (or fire)
    for row in rows:
        element, kind = row.get("element_id"), row.get("kind")
        if kind in ("check_passed", "check_failed", "check_overridden"):
            data = row.get("data") or {}
            name = str(data.get("check") or element)
            trail.checks.setdefault(name, []).append(str(row.get("to_state") or kind[6:]))
            trail.check_gateways[name] = str(element)
            continue
        if kind == "sla_breached":
            trail.sla_breached.append(str((row.get("data") or {}).get("timer") or element))
            continue
        if not element or kind not in _COMPLETING_KINDS:
            continue
        state = row.get("to_state")
        if state in _ENTERED and state != "waiting":
            trail.entered.add(element)
            if state == "completed" or not _waits(definition, element):
                trail.flows.update(pending.pop(element, set()))
        if not _completed(row):
            continue
        trail.path.append(element)
        node = definition.nodes.get(element)
        if node is None:
            continue
        if node.type == "boundaryEvent":
            trail.boundary_fired.add(element)
        if node.type in DECISION_GATEWAYS and kind == "gateway":
            trail.flows.update(t["flow"] for t in (row.get("data") or {}).get("taken", []) if t.get("flow"))
            continue
        for flow in definition.outgoing(element):
            if flow.condition is None and node.type != "eventBasedGateway":
                trail.flows.add(flow.id)
            else:
                pending.setdefault(flow.target, set()).add(flow.id)
    return trail


def _waits(definition: ProcedureDefinition, element: str) -> bool:
    """Catch events wait before they fire: being armed is not being reached."""
    node = definition.nodes.get(element)
    return node is not None and node.type in ("intermediateCatchEvent", "receiveTask", "boundaryEvent")


def follows_in_order(path: list[str], wanted: Iterable[str]) -> tuple[bool, str | None]:
    """Whether `wanted` appears in `path` in this order (other elements may come between); else the first
    element that could not be found after the ones before it."""
    position = 0
    for element in wanted:
        try:
            position = path.index(element, position) + 1
        except ValueError:
            return False, element
    return True, None
