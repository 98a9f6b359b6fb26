"""Coverage of a procedure by its scenarios: which flows, branches, boundary events and check outcomes ran.

Pure. The approval rule reads `uncovered_flows`: every sequence flow must be exercised by some scenario
that passed, or be declared not testable with a reason (which the approver sees). A failing scenario's
path does not count: it shows where the procedure went, not that it did the right thing there.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.checks.declared import check_gateways

from .model import NotTestable
from .path import DECISION_GATEWAYS, Trail

BRANCHING = (*DECISION_GATEWAYS, "eventBasedGateway")
CHECK_OUTCOMES = ("passed", "failed")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def coverage(definition: ProcedureDefinition, trails: Iterable[tuple[str, Trail]],
             not_testable: Iterable[NotTestable] = ()) -> dict[str, Any]:
    """Coverage of the passing scenarios' trails (name, trail), with the flows declared not testable."""
    by_flow: dict[str, list[str]] = {flow: [] for flow in definition.flows}
    boundary: dict[str, list[str]] = {n.id: [] for n in definition.nodes.values() if n.type == "boundaryEvent"}
    gateways = check_gateways(definition)
    outcomes: dict[tuple[str, str], list[str]] = {(g.name, o): [] for g in gateways.values() for o in CHECK_OUTCOMES}
    for name, trail in trails:
        for flow in trail.flows:
            by_flow.setdefault(flow, []).append(name)
        for event in trail.boundary_fired:
            boundary.setdefault(event, []).append(name)
        for check, seen in trail.checks.items():
            for outcome in dict.fromkeys(seen):
                outcomes.setdefault((check, outcome), []).append(name)
    declared = {n.flow: n for n in not_testable}
    flows: list[dict[str, Any]] = [{"flow": f.id, "source": f.source, "target": f.target, "name": f.name, "covered": bool(by_flow[f.id]),
              "scenarios": sorted(set(by_flow[f.id])),
              "not_testable": declared[f.id].reason if f.id in declared else None}
             for f in definition.flows.values()]
    uncovered = [f["flow"] for f in flows if not f["covered"] and f["not_testable"] is None]
    branches: list[dict[str, Any]] = [{"gateway": node.id, "name": node.name, "type": node.type,
                 "flows": [{"flow": f, "covered": bool(by_flow.get(f))} for f in node.outgoing]}
                for node in definition.nodes.values() if node.type in BRANCHING]
    events = [{"element_id": event, "name": definition.nodes[event].name,
               "attached_to": definition.nodes[event].attached_to, "fired": bool(names),
               "scenarios": sorted(set(names))} for event, names in boundary.items()]
    checks = [{"check": check, "outcome": outcome, "gateway": next(
        (g.gateway_id for g in gateways.values() if g.name == check), None),
        "covered": bool(names), "scenarios": sorted(set(names))} for (check, outcome), names in outcomes.items()]
    return {
        "flows": flows, "gateway_branches": branches, "boundary_events": events, "check_outcomes": checks,
        "uncovered_flows": uncovered,
        "unknown_not_testable": sorted(f for f in declared if f not in definition.flows),
        "totals": {
            "flows": len(flows), "flows_covered": sum(f["covered"] for f in flows),
            "flows_not_testable": sum(1 for f in flows if not f["covered"] and f["not_testable"] is not None),
            "flow_share": _share(sum(f["covered"] for f in flows), len(flows)),
            "branches": sum(len(b["flows"]) for b in branches),
            "branches_covered": sum(x["covered"] for b in branches for x in b["flows"]),
            "boundary_events": len(events), "boundary_events_fired": sum(e["fired"] for e in events),
            "check_outcomes": len(checks), "check_outcomes_covered": sum(c["covered"] for c in checks),
        },
    }
