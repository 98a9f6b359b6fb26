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
    return [*size_problems(graph, limits), *recursive_calls(scope), *fast_cycles(graph), *starved_joins(graph)]


def containment_warnings(graph: Graph) -> list[Problem]:
    """What the upload accepts but says: plain tasks pass straight through."""
    return [Problem(message=f"task {node.id} has no type (a plain bpmn:task): it passes straight through here, as "
                            "in Camunda 7; make it a userTask for a person or a serviceTask for a system",
                    element_id=node.id, line=node.line, rule="containment.plain_task")
            for node in graph.nodes.values() if node.type == "task"]
