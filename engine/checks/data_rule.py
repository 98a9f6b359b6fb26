"""Lint rule check.data: a check may only read data that is certainly collected before it is reached."""
from __future__ import annotations

from engine.bpmn.model import ProcedureDefinition

from .dataflow import Available, collected_by
from .declared import CheckDef
from .findings import Finding, arrow, finding
from .graph import path_to, scope_graph, search


def _uncollected_path(definition: ProcedureDefinition, gateway_id: str, name: str,
                      wanted: frozenset[str]) -> list[str] | None:
    """A path from a start of the gateway's scope to the gateway on which nothing collects `name`."""
    graph = scope_graph(definition, definition.nodes[gateway_id].parent)

    def allowed(source: str, target: str) -> bool:
        boundary = definition.nodes[target].attached_to == source
        return boundary or name not in collected_by(definition, source, wanted)

    parent = search(graph.succ, graph.starts, allowed)
    return path_to(parent, gateway_id) if gateway_id in parent else None


def uncollected_names(definition: ProcedureDefinition, checks: dict[str, CheckDef],
                      start: frozenset[str]) -> list[Finding]:
    """check.data: names a pass condition reads that some path to its gateway never collects."""
    usable = [c for c in checks.values() if c.names and definition.nodes[c.gateway_id].type == "exclusiveGateway"]
    if not usable:
        return []
    wanted = frozenset().union(*(c.names for c in usable))
    available = Available(definition, start, wanted)
    found: list[Finding] = []
    for check in usable:
        missing = sorted(check.names - available.entry.get(check.gateway_id, frozenset()))
        if not missing:
            continue
        path = _uncollected_path(definition, check.gateway_id, missing[0], wanted)
        where = f"; for example '{missing[0]}' is never collected on {arrow(path)}" if path else ""
        found.append(finding(
            definition, "check.data", check.gateway_id,
            f"the condition of check '{check.name}' at {check.gateway_id} reads {', '.join(map(repr, missing))}, "
            "which no form collects on every path to the gateway and which is not declared start data "
            f"(process property start_data){where}", path))
    return found
