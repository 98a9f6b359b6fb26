"""Lint rules about mandatory checks themselves: where they sit, their flows, and that no path avoids them."""
from __future__ import annotations

from collections.abc import Iterable

from engine.bpmn.model import ProcedureDefinition

from .declared import CheckDef, check_gateways, check_name, is_fail_flow, pass_and_fail
from .findings import Finding, arrow, finding
from .graph import CONTAINERS, ScopeGraph, path_to, scope_graph, search


def check_placement(definition: ProcedureDefinition, checks: dict[str, CheckDef]) -> list[Finding]:
    """check.gateway and check.flows."""
    found: list[Finding] = []
    for gateway_id, check in checks.items():
        node = definition.nodes[gateway_id]
        if node.type != "exclusiveGateway":
            found.append(finding(definition, "check.gateway", gateway_id,
                                 f"{node.type} {gateway_id} declares check '{check.name}', but only an exclusive "
                                 "gateway can enforce a check: move the `check` property to the gateway that "
                                 "decides pass or fail"))
            continue
        if pass_and_fail(definition, gateway_id) != (None, None):
            continue
        flows = definition.outgoing(gateway_id)
        fails = [f.id for f in flows if is_fail_flow(f)]
        passes = [f.id for f in flows if not is_fail_flow(f)]
        unconditioned = [f for f in passes if definition.flows[f].condition is None]
        found.append(finding(
            definition, "check.flows", gateway_id,
            f"check gateway {gateway_id} ('{check.name}') needs exactly two outgoing flows: one pass flow with a "
            "condition and one fail flow (the default flow, or a flow named 'fail'); it has "
            f"{len(flows)} flow(s): pass {passes or 'none'}, fail {fails or 'none'}"
            + (f", and {', '.join(unconditioned)} has no condition" if unconditioned else "")))
    return found


def _guarding(definition: ProcedureDefinition, graph: ScopeGraph, name: str, depth: int = 0) -> frozenset[str]:
    """Nodes of the scope that a token cannot pass without passing check `name`: its gateways, and the
    subprocesses in which every path from the start to a normal end passes it."""
    blocked = {n for n in graph.nodes
               if definition.nodes[n].type == "exclusiveGateway" and check_name(definition.nodes[n]) == name}
    for node_id in graph.nodes:
        if definition.nodes[node_id].type in CONTAINERS and depth < 20:
            inner = scope_graph(definition, node_id)
            if inner.starts and _avoiding_path(definition, inner, name, depth + 1) is None:
                blocked.add(node_id)
    return frozenset(blocked)


def _avoiding_path(definition: ProcedureDefinition, graph: ScopeGraph, name: str,
                   depth: int = 0) -> list[str] | None:
    blocked = _guarding(definition, graph, name, depth)
    parent = search(graph.succ, [s for s in graph.starts if s not in blocked],
                    lambda _u, v: v not in blocked)
    leaked = [end for end in graph.normal_ends if end in parent]
    return path_to(parent, leaked[0]) if leaked else None


def required_paths(definition: ProcedureDefinition, required: Iterable[str],
                   checks: dict[str, CheckDef] | None = None) -> list[Finding]:
    """check.required: for each required check, a path from the start to a normal end that avoids it."""
    declared = {c.name for c in (checks if checks is not None else check_gateways(definition)).values()}
    top = scope_graph(definition, None)
    found: list[Finding] = []
    for name in required:
        path = _avoiding_path(definition, top, name)
        if path is None:
            continue
        if name not in declared:
            message = (f"required check '{name}' is not declared by any gateway (add the property "
                       f"check={name} to the exclusive gateway that enforces it), so this path to "
                       f"{path[-1]} passes no such check: {arrow(path)}")
        else:
            message = f"this path to the normal end {path[-1]} avoids required check '{name}': {arrow(path)}"
        found.append(finding(definition, "check.required", path[-1], message, path))
    return found
