"""Upload rules for models that could never work here and would hang or bloat the service if they ran.

Errors (the upload is refused, 422, the element named): a call activity that can reach its own process
(each call nests a new copy of the process in the incident, without end), a repeating timer of less than
a second (it would fire without end at once), a parallel join fed by several flows of one exclusive or
event-based gateway (only one token ever comes, so it never fires), more flow nodes or deeper nesting than
MAX_ELEMENTS / MAX_NESTING. Warnings: a plain bpmn:task, which passes straight through, as in Camunda 7.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.errors import Problem

from .cycles import parse_cycle
from .model import Graph

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_SPLITS_ONE = frozenset({"exclusiveGateway", "eventBasedGateway"})


@dataclass(frozen=True)
class ModelLimits:
    """How big one uploaded procedure may be (MAX_ELEMENTS flow nodes, MAX_NESTING levels of subprocesses)."""

    max_elements: int = 2000
    max_nesting: int = 10


def _call_graph(scope: list[Any]) -> dict[str, list[tuple[str, Any]]]:
    """Process id -> (called process id, call activity element) for the processes of the file in scope."""
    ids = {p.get("id") for p in scope}
    calls: dict[str, list[tuple[str, Any]]] = {}
    for process in scope:
        for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
            called = (call.get("calledElement") or "").strip()
            if called in ids:
                calls.setdefault(process.get("id"), []).append((called, call))
    return calls


def recursive_calls(scope: list[Any]) -> list[Problem]:
    """A call activity whose called process can reach, through calls, the process the activity is in."""
    calls = _call_graph(scope)

    def reaches(start: str, goal: str) -> list[str] | None:
        paths, seen = [[start]], {start}
        while paths:
            path = paths.pop()
            if path[-1] == goal:
                return path
            for called, _call in calls.get(path[-1], []):
                if called == goal or called not in seen:
                    seen.add(called)
                    paths.append([*path, called])
        return None

    problems = []
    for process_id, targets in calls.items():
        for called, call in targets:
            path = reaches(called, process_id)
            if path is not None:
                chain = " -> ".join([process_id, *path])
                problems.append(Problem(
                    message=f"call activity {call.get('id')} can call its own process ({chain}): every call nests "
                            "a new copy of the process in the incident, so it never ends; refused (end the "
                            "repetition with a loop and a check gateway instead)",
                    element_id=call.get("id"), line=call.sourceline, rule="containment.recursive_call"))
    return problems


def fast_cycles(graph: Graph) -> list[Problem]:
    """A repeating timer (not a timer start event) whose interval is under a second."""
    problems = []
    for node in graph.nodes.values():
        if node.timer is None or node.timer.kind != "cycle" or node.type == "startEvent":
            continue
        cycle = parse_cycle(node.timer.expression)
        if cycle is not None and cycle.interval < timedelta(seconds=1):
            problems.append(Problem(
                message=f"timer {node.id} repeats every {cycle.interval.total_seconds():g} s "
                        f"({node.timer.expression}): it would fire without end at once; refused (a repeating "
                        "timer needs an interval of at least a second)",
                element_id=node.id, line=node.line, rule="containment.fast_cycle"))
    return problems


def _split_behind(graph: Graph, flow_id: str) -> tuple[str, str] | None:
    """Walk back from a flow through plain single-path nodes to the gateway it leaves: (gateway, flow)."""
    seen = set()
    while flow_id in graph.flows and flow_id not in seen:
        seen.add(flow_id)
        source = graph.nodes.get(graph.flows[flow_id].source)
        if source is None:
            return None
        if source.type.endswith("Gateway") or len(source.incoming) != 1 or source.attached_to:
            return (source.id, flow_id) if source.type in _SPLITS_ONE else None
        flow_id = source.incoming[0]
    return None


def starved_joins(graph: Graph) -> list[Problem]:
    """A parallel join with two incoming flows that come from one exclusive (or event-based) split."""
    problems = []
    for node in graph.nodes.values():
        if node.type != "parallelGateway" or len(node.incoming) < 2:
            continue
        by_split: dict[str, list[str]] = {}
        for flow_id in node.incoming:
            found = _split_behind(graph, flow_id)
            if found is not None:
                by_split.setdefault(found[0], []).append(flow_id)
        for split, flows in by_split.items():
            if len(flows) > 1:
                problems.append(Problem(
                    message=f"parallel gateway {node.id} waits for a token on each of its {len(node.incoming)} "
                            f"incoming flows, but {', '.join(flows)} all come from {graph.nodes[split].type} "
                            f"{split}, which sends only one: the join can never fire and the incident would "
                            "stay running with nothing to do; refused (join them with an exclusive gateway)",
                    element_id=node.id, line=node.line, rule="containment.starved_join"))
    return problems


# What may end a token's path and still rescue a join waiting for it (ends or interrupts the scope, or jumps):
# an exit through one of these is not a lost token.
_RESCUING_KINDS = frozenset({"terminate", "error", "escalation", "signal", "cancel", "compensate", "link",
                             "conditional", "multiple"})
_PLAIN = frozenset({"task", "userTask", "manualTask", "serviceTask", "sendTask", "receiveTask", "scriptTask",
                    "businessRuleTask", "intermediateCatchEvent", "intermediateThrowEvent", "callActivity",
                    "subProcess"})


class _Tokens:
    """Forward and backward reachability over one procedure's sequence flows and boundary events."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.boundaries: dict[str, list[str]] = {}
        for node in graph.nodes.values():
            if node.attached_to:
                self.boundaries.setdefault(node.attached_to, []).append(node.id)
        self._back: dict[str, set[str]] = {}

    def successors(self, node_id: str) -> list[str]:
        node = self.graph.nodes[node_id]
        found = [self.graph.flows[f].target for f in node.outgoing if f in self.graph.flows]
        return found + self.boundaries.get(node_id, [])

    def forward(self, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for nxt in self.successors(todo.pop()):
                if nxt in self.graph.nodes and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    def reaching(self, goal: str) -> set[str]:
        """Every node from which `goal` can be reached (goal itself only on a loop)."""
        if goal not in self._back:
            predecessors: dict[str, list[str]] = {}
            for node in self.graph.nodes.values():
                for nxt in self.successors(node.id):
                    predecessors.setdefault(nxt, []).append(node.id)
            seen: set[str] = set()
            todo = list(predecessors.get(goal, []))
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(predecessors.get(current, []))
            self._back[goal] = seen
        return self._back[goal]

    def plain(self, node_id: str) -> bool:
        """One token in, one token out, no boundary event: a token that enters surely leaves by its one flow."""
        node = self.graph.nodes[node_id]
        return (node.type in _PLAIN and len(node.incoming) == 1 and len(node.outgoing) == 1
                and not self.boundaries.get(node_id) and node.event_kind in (None, "none", "message", "timer"))

    def chain_back(self, flow_id: str) -> tuple[str, str] | None:
        """From a flow back through plain nodes to the first node that is not plain: (that node, its flow)."""
        seen: set[str] = set()
        while flow_id in self.graph.flows and flow_id not in seen:
            seen.add(flow_id)
            source = self.graph.flows[flow_id].source
            if source not in self.graph.nodes:
                return None
            if not self.plain(source):
                return source, flow_id
            flow_id = self.graph.nodes[source].incoming[0]
        return None

    def lost_exit(self, flow_id: str, join: str) -> bool:
        """Does a token on this flow end without ever reaching `join`, and without anything that ends or
        interrupts its scope on the way (then the join waits for it for ever)?"""
        flow = self.graph.flows[flow_id]
        if flow.target == join or flow.target in self.reaching(join):
            return False
        region = self.forward(flow.target)
        for node in self.graph.nodes.values():
            inside, parent = node.id in region, node.parent
            while not inside and parent is not None:  # the content of a subprocess on the way counts too
                inside, parent = parent in region, self.graph.nodes[parent].parent if parent in self.graph.nodes \
                    else None
            if inside and (node.event_kind in _RESCUING_KINDS or node.type == "callActivity"):
                return False
        return True

    def rescued(self, join: str) -> bool:
        """Can something interrupt the join's scope (an interrupting boundary event on an enclosing
        subprocess, an interrupting event subprocess) and so free a waiting join? Then it is not flagged."""
        nodes = self.graph.nodes
        if any(n.type == "startEvent" and n.cancel_activity for n in nodes.values()):
            return True
        parent = nodes[join].parent
        while parent is not None and parent in nodes:
            if any(nodes[b].cancel_activity for b in self.boundaries.get(parent, [])):
                return True
            parent = nodes[parent].parent
        return False


def lost_token_joins(graph: Graph) -> list[Problem]:
    """A parallel join that some path reaches with fewer tokens than it waits for: one of the tokens of a
    parallel split meets an exclusive (or event-based) gateway, or one branch of an inclusive split is
    conditional, and that token can end without reaching the join while the other branches reach it.

    Sound rather than complete: the token is followed only through nodes that pass one token on (no boundary
    events, no gateways); an exit that ends or interrupts the scope (terminate, error, escalation, signal end
    events, a call), or an interrupting event subprocess or boundary event around the join, is no loss.
    """
    tokens = _Tokens(graph)
    problems: list[Problem] = []
    for join in graph.nodes.values():
        if join.type != "parallelGateway" or len(join.incoming) < 2 or tokens.rescued(join.id):
            continue
        towards = tokens.reaching(join.id)
        for flow_id in join.incoming:
            found = tokens.chain_back(flow_id)
            if found is None:
                continue
            choice, taken = found
            problem = _lost_at_choice(graph, tokens, join.id, towards, flow_id, choice, taken)
            if problem is not None:
                problems.append(Problem(message=problem, element_id=join.id, line=join.line,
                                        rule="containment.lost_token"))
                break
    return problems


def _other_branch_reaches(graph: Graph, split: str, branch_flow: str, join: str, towards: set[str]) -> bool:
    return any(f != branch_flow and f in graph.flows and
               (graph.flows[f].target == join or graph.flows[f].target in towards)
               for f in graph.nodes[split].outgoing)


def _lost_at_choice(graph: Graph, tokens: _Tokens, join: str, towards: set[str], flow_id: str, choice: str,
                    taken: str) -> str | None:
    """Why the token the join waits for on `flow_id` (coming from gateway `choice` by flow `taken`) can be lost."""
    node = graph.nodes[choice]
    if node.type in _SPLITS_ONE and len(node.outgoing) > 1 and len(node.incoming) == 1:
        exits = [f for f in node.outgoing if f != taken and f in graph.flows and tokens.lost_exit(f, join)]
        behind = tokens.chain_back(node.incoming[0])
        if not exits or behind is None:
            return None
        split, branch = behind
        if graph.nodes[split].type != "parallelGateway" or not _other_branch_reaches(graph, split, branch, join,
                                                                                    towards):
            return None
        return (f"parallel gateway {join} waits for a token on each of its {len(graph.nodes[join].incoming)} "
                f"incoming flows, but the one on {flow_id} (a branch of parallel gateway {split}) comes only when "
                f"{node.type} {choice} takes {taken}; when it takes {exits[0]} the token ends without reaching "
                f"the join, which then never fires and the incident stalls; refused (join with an inclusive "
                f"gateway, or lead {exits[0]} to the join or to a terminate end event)")
    if node.type == "inclusiveGateway" and len(node.outgoing) > 1:
        flow = graph.flows[taken]
        conditional = flow.condition is not None or flow.is_default
        if conditional and _other_branch_reaches(graph, choice, taken, join, towards):
            return (f"parallel gateway {join} waits for a token on each of its {len(graph.nodes[join].incoming)} "
                    f"incoming flows, but the one on {flow_id} comes only when inclusive gateway {choice} takes "
                    f"its {'default' if flow.is_default else 'conditional'} flow {taken}; when it does not, the "
                    "join never fires and the incident stalls; refused (join an inclusive split with an "
                    "inclusive gateway)")
    return None


def size_problems(graph: Graph, limits: ModelLimits) -> list[Problem]:
    """More flow nodes than MAX_ELEMENTS, or subprocesses (and calls) nested deeper than MAX_NESTING."""
    problems = []
    if len(graph.nodes) > limits.max_elements:
        problems.append(Problem(
            message=f"the procedure has {len(graph.nodes)} flow nodes, over the limit of {limits.max_elements} "
                    "(MAX_ELEMENTS); split it into several procedures", rule="containment.size"))
    for node in graph.nodes.values():
        depth, parent = 0, node.parent
        while parent is not None and depth <= limits.max_nesting:
            depth += 1
            parent = graph.nodes[parent].parent if parent in graph.nodes else None
        if depth > limits.max_nesting:
            problems.append(Problem(
                message=f"{node.type} {node.id} is nested more than {limits.max_nesting} subprocesses deep "
                        "(MAX_NESTING)", element_id=node.id, line=node.line, rule="containment.nesting"))
            break
    return problems


def containment_problems(scope: list[Any], graph: Graph, limits: ModelLimits) -> list[Problem]:
    """Everything that refuses the upload under this module's rules."""
    starved = starved_joins(graph)
    named = {p.element_id for p in starved}
    lost = [p for p in lost_token_joins(graph) if p.element_id not in named]
    return [*size_problems(graph, limits), *recursive_calls(scope), *fast_cycles(graph), *starved, *lost]


def containment_warnings(graph: Graph) -> list[Problem]:
    """What the upload accepts but says: plain tasks pass straight through."""
    return [Problem(message=f"task {node.id} has no type (a plain bpmn:task): it passes straight through here, as "
                            "in Camunda 7; make it a userTask for a person or a serviceTask for a system",
                    element_id=node.id, line=node.line, rule="containment.plain_task")
            for node in graph.nodes.values() if node.type == "task"]
