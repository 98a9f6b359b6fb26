"""A procedure's sequence flows as a plain directed graph per scope, with the searches the lint rules share.

A scope is the top level of the process (None) or one embedded subprocess (its id). A boundary event counts
as an extra exit of the task it is attached to, so a timer path is a path like any other.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.bpmn.model import NodeDef, ProcedureDefinition

ABNORMAL_ENDS = frozenset({"escalation", "cancel"})
CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})


@dataclass(frozen=True)
class ScopeGraph:
    """The nodes of one scope and the edges between them."""

    scope: str | None
    nodes: tuple[str, ...]
    succ: dict[str, tuple[str, ...]]
    starts: tuple[str, ...]
    ends: tuple[str, ...]
    normal_ends: tuple[str, ...]
    triggered: tuple[str, ...]  # event subprocesses: entered by an event, not by a flow

    def preds(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {n: [] for n in self.nodes}
        for node, targets in self.succ.items():
            for target in targets:
                found[target].append(node)
        return found


def is_normal_end(node: NodeDef) -> bool:
    """An end event that closes the incident normally (not an escalation or cancellation end)."""
    return node.type == "endEvent" and node.event_kind not in ABNORMAL_ENDS


def is_event_subprocess(definition: ProcedureDefinition, node: NodeDef) -> bool:
    """A subprocess with no incoming flow whose start events all wait for an event (triggeredByEvent)."""
    if node.type != "subProcess" or node.incoming:
        return False
    starts = [n for n in definition.nodes.values() if n.parent == node.id and n.type == "startEvent"]
    return bool(starts) and all(s.event_kind not in (None, "none") for s in starts)


def scope_ids(definition: ProcedureDefinition) -> list[str | None]:
    """The top level first, then every embedded subprocess that has nodes of its own."""
    inner = {n.parent for n in definition.nodes.values() if n.parent is not None}
    return [None, *sorted(s for s in inner if s in definition.nodes and definition.nodes[s].type in CONTAINERS)]


def scope_graph(definition: ProcedureDefinition, scope: str | None) -> ScopeGraph:
    nodes = [n for n in definition.nodes.values() if n.parent == scope]
    ids = {n.id for n in nodes}
    succ: dict[str, list[str]] = {n.id: [] for n in nodes}
    for node in nodes:
        for flow in definition.outgoing(node.id):
            if flow.target in ids and flow.target not in succ[node.id]:
                succ[node.id].append(flow.target)
        if node.attached_to in ids:
            succ[node.attached_to].append(node.id)
    # compensation: a compensation boundary event ends where it is (its handler hangs on an association);
    # a handler (isForCompensation) is started by a compensation throw, like an event subprocess by its event
    compensation = tuple(n.id for n in nodes if n.for_compensation
                         or (n.type == "boundaryEvent" and n.event_kind == "compensate"))
    return ScopeGraph(
        scope=scope, nodes=tuple(n.id for n in nodes), succ={k: tuple(v) for k, v in succ.items()},
        starts=tuple(n.id for n in nodes if n.type == "startEvent"),
        ends=(*(n.id for n in nodes if n.type == "endEvent"), *compensation),
        normal_ends=tuple(n.id for n in nodes if is_normal_end(n)),
        triggered=tuple(n.id for n in nodes if is_event_subprocess(definition, n) or n.for_compensation))


def search(succ: dict[str, tuple[str, ...]], sources: Iterable[str],
           allowed: Callable[[str, str], bool] = lambda _u, _v: True) -> dict[str, str | None]:
    """Breadth-first search: every node reached (sources included), mapped to the node it was reached from."""
    parent: dict[str, str | None] = {}
    queue: deque[str] = deque()
    for source in sources:
        if source not in parent:
            parent[source] = None
            queue.append(source)
    while queue:
        node = queue.popleft()
        for target in succ.get(node, ()):
            if target not in parent and allowed(node, target):
                parent[target] = node
                queue.append(target)
    return parent


def path_to(parent: dict[str, str | None], node: str) -> list[str]:
    """The search path from a source to `node`."""
    path = [node]
    while parent.get(path[-1]) is not None:
        path.append(parent[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


def cycles(succ: dict[str, tuple[str, ...]], removed: frozenset[str] = frozenset()) -> list[list[str]]:
    """The strongly connected components that hold a cycle once `removed` nodes are taken out (Tarjan,
    iterative), each listed in a traversal order."""
    graph = {n: [m for m in ms if m not in removed] for n, ms in succ.items() if n not in removed}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = graph.get(node, [])
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, []):
                    found.append(component[::-1])
    return found
