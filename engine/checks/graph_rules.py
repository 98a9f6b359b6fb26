"""Lint rules about the shape of the graph: reachability, dead ends, unchecked loops, defaults, task owners."""
from __future__ import annotations

from engine.bpmn.model import ProcedureDefinition

from .declared import CheckDef
from .findings import Finding, arrow, finding
from .graph import cycles, scope_graph, scope_ids, search


def reachability(definition: ProcedureDefinition) -> list[Finding]:
    """graph.unreachable and graph.dead_end, scope by scope (an ad hoc subprocess has no flow to check)."""
    found: list[Finding] = []
    for scope in scope_ids(definition):
        if scope is not None and definition.nodes[scope].type == "adHocSubProcess":
            continue
        graph = scope_graph(definition, scope)
        if not graph.starts and not graph.triggered:
            continue
        reached = search(graph.succ, [*graph.starts, *graph.triggered])
        reverse: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in graph.preds().items()}
        finishing = search(reverse, graph.ends)
        for node_id in graph.nodes:
            node = definition.nodes[node_id]
            if node_id not in reached:
                found.append(finding(definition, "graph.unreachable", node_id,
                                     f"{node.type} {node_id} cannot be reached from any start event"))
            elif node_id not in finishing and node_id not in graph.triggered:
                found.append(finding(definition, "graph.dead_end", node_id,
                                     f"{node.type} {node_id} cannot reach any end event: an incident that gets "
                                     "there never closes (end every path with an end event)"))
    return found


def unchecked_loops(definition: ProcedureDefinition, checks: dict[str, CheckDef]) -> list[Finding]:
    """loop.no_check: with the check gateways (and subprocesses holding one) taken out, no cycle is left."""
    guarded = set(checks)
    for gateway_id in checks:
        parent = definition.nodes[gateway_id].parent
        while parent is not None and parent in definition.nodes:
            guarded.add(parent)
            parent = definition.nodes[parent].parent
    found: list[Finding] = []
    for scope in scope_ids(definition):
        graph = scope_graph(definition, scope)
        for component in cycles(graph.succ, frozenset(guarded)):
            found.append(finding(definition, "loop.no_check", component[0],
                                 f"this loop passes through no check gateway: {arrow([*component, component[0]])}; "
                                 "a rework loop should return to a check that decides when it may end",
                                 [*component, component[0]]))
    return found


def missing_defaults(definition: ProcedureDefinition) -> list[Finding]:
    """gateway.no_default: an exclusive gateway with several outgoing flows and none of them the default."""
    found: list[Finding] = []
    for node in definition.nodes.values():
        flows = definition.outgoing(node.id)
        if node.type == "exclusiveGateway" and len(flows) > 1 and not any(f.is_default for f in flows):
            found.append(finding(definition, "gateway.no_default", node.id,
                                 f"exclusive gateway {node.id} has no default flow: when no condition holds the "
                                 "incident stops with an error; mark one flow as the default"))
    return found


def ownerless_tasks(definition: ProcedureDefinition) -> list[Finding]:
    """task.no_owner: a user task in no lane and with no candidate group shows in nobody's queue."""
    return [finding(definition, "task.no_owner", task.id,
                    f"user task {task.id} ('{task.name}') has neither a lane nor a candidate group, so it shows "
                    "in no team's queue; put it in a lane or set camunda:candidateGroups")
            for task in definition.user_tasks if not task.lane and not task.candidate_groups]
