"""Putting a simulation's inputs together from history and declarations, or saying exactly what is missing.

Declared values win over history for the elements they name; history fills in the rest. Every user task
needs a work duration, every decision gateway with two or more flows its choices, every lane its agents,
and the window its arrivals: what is missing from both is listed, one problem per element (HTTP 422).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.errors import Invalid, Problem

from .distributions import Distribution, declared
from .history import History
from .inputs import MAX_ARRIVALS, MAX_REPLICATIONS, Arrivals, Inputs
from .model import DECISIONS, USER_TASKS, lane_of


def _weights(raw: Any, field: str, flows: set[str], problems: list[Problem]) -> dict[str, float] | None:
    if not isinstance(raw, Mapping) or not raw:
        problems.append(Problem("gateway choices map each flow id to a weight", field=field))
        return None
    found = {}
    for flow, weight in raw.items():
        if flow not in flows:
            problems.append(Problem(f"{flow} is not a flow out of this gateway ({', '.join(sorted(flows))})",
                                    field=f"{field}.{flow}"))
        elif isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            problems.append(Problem("a weight is a number of at least 0", field=f"{field}.{flow}"))
        else:
            found[str(flow)] = float(weight)
    if found and not sum(found.values()):
        problems.append(Problem("at least one weight must be above 0", field=field))
    return found


def _arrivals(declared_: Mapping[str, Any], history: History | None, problems: list[Problem]) -> Arrivals | None:
    rate = declared_.get("arrivals_per_hour")
    data = declared_.get("start_data") or []
    if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
        problems.append(Problem("start_data is a list of objects (start data of typical incidents)",
                                field="declared.start_data"))
        data = []
    if rate is not None:
        rates = rate if isinstance(rate, list) else [rate]
        if not rates or len(rates) not in (1, 24) or any(
                isinstance(r, bool) or not isinstance(r, int | float) or r < 0 for r in rates):
            problems.append(Problem("arrivals_per_hour is a rate (incidents per hour) or 24 of them, by hour of day",
                                    field="declared.arrivals_per_hour"))
            return None
        return Arrivals(per_hour=tuple(float(r) for r in rates), data=tuple(dict(d) for d in data))
    if history is not None and history.incidents:
        return Arrivals(hourly=tuple(tuple(h) for h in history.hourly))
    problems.append(Problem("no incidents of the active version arrived in the window and no arrival rate is "
                            "declared (declared.arrivals_per_hour)", field="declared.arrivals_per_hour"))
    return None


def assemble(definition: ProcedureDefinition, history: History | None, body: Mapping[str, Any], hours: int
             ) -> Inputs:
    """The Inputs of a simulation request (`body`: agents, replications, seed, declared), or Invalid."""
    problems: list[Problem] = []
    declared_ = body.get("declared") or {}
    if not isinstance(declared_, Mapping):
        raise Invalid("declared must be an object", [Problem("expected an object", field="declared")])
    arrivals = _arrivals(declared_, history, problems)
    durations: dict[str, Distribution] = {}
    sources: dict[str, str] = {}
    for element, raw in dict(declared_.get("tasks") or {}).items():
        if element not in definition.nodes:
            problems.append(Problem(f"the procedure has no element {element}", field=f"declared.tasks.{element}"))
            continue
        found, issues = declared(raw, f"declared.tasks.{element}")
        problems.extend(issues)
        if found is not None:
            durations[element], sources[element] = found, "declared"
    for element, dist in (history.durations if history else {}).items():
        if element in definition.nodes and element not in durations:
            durations[element], sources[element] = dist, "history"
    for task in definition.user_tasks:
        if task.id not in durations:
            problems.append(Problem(f"no work duration for user task {task.id} ({task.name}): the active version "
                                    "has no completed instance in the window; declare one",
                                    field=f"declared.tasks.{task.id}", element_id=task.id))
    branches, retry = _branches(definition, declared_, history, sources, problems)
    timers: dict[str, Distribution] = {}
    for element, raw in dict(declared_.get("timers") or {}).items():
        node = definition.nodes.get(element)
        if node is None or node.timer is None:
            problems.append(Problem(f"{element} is not a timer event of the procedure", field=f"declared.timers.{element}"))
            continue
        found, issues = declared(raw, f"declared.timers.{element}")
        problems.extend(issues)
        if found is not None:
            timers[element] = found
    agents = _agents(definition, body.get("agents"), problems)
    replications, seed = body.get("replications", 10), body.get("seed", 1)
    if isinstance(replications, bool) or not isinstance(replications, int) or not 1 <= replications <= MAX_REPLICATIONS:
        problems.append(Problem(f"replications is 1 to {MAX_REPLICATIONS}", field="replications"))
    if arrivals is not None and arrivals.expected(hours) > MAX_ARRIVALS:
        problems.append(Problem(f"more than {MAX_ARRIVALS} arrivals in the window; simulate a shorter one",
                                field="declared.arrivals_per_hour"))
    if problems:
        raise Invalid("the simulation cannot run: " + "; ".join(p.message for p in problems[:3])
                      + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""), problems)
    assert arrivals is not None
    return Inputs(hours, arrivals, durations, branches, agents, retry, timers, int(replications),
                  int(seed) if isinstance(seed, int) and not isinstance(seed, bool) else 1, sources)


def _branches(definition: ProcedureDefinition, declared_: Mapping[str, Any], history: History | None,
              sources: dict[str, str], problems: list[Problem]) -> tuple[dict[str, dict[str, float]],
                                                                      dict[str, dict[str, float]]]:
    branches: dict[str, dict[str, float]] = {}
    retry: dict[str, dict[str, float]] = {}
    for key, target in (("gateways", branches), ("retry_gateways", retry)):
        for gateway, raw in dict(declared_.get(key) or {}).items():
            node = definition.nodes.get(gateway)
            if node is None or node.type not in DECISIONS:
                problems.append(Problem(f"{gateway} is not a decision gateway of the procedure",
                                        field=f"declared.{key}.{gateway}"))
                continue
            found = _weights(raw, f"declared.{key}.{gateway}", set(node.outgoing), problems)
            if found:
                target[gateway], sources[gateway] = found, "declared"
    for gateway, weights in (history.branches if history else {}).items():
        if gateway in definition.nodes and gateway not in branches:
            branches[gateway], sources[gateway] = weights, "history"
    for gateway, weights in (history.retry_branches if history else {}).items():
        if gateway in definition.nodes and gateway not in retry and sources.get(gateway) == "history":
            retry[gateway] = weights
    for node in definition.nodes.values():
        if node.type in DECISIONS and len(node.outgoing) > 1 and node.id not in branches:
            problems.append(Problem(f"no choices for gateway {node.id}: the active version never reached it in "
                                    "the window; declare the weight of each flow", field=f"declared.gateways.{node.id}",
                                    element_id=node.id))
    return branches, retry


def _agents(definition: ProcedureDefinition, raw: Any, problems: list[Problem]) -> dict[str, int]:
    lanes = sorted({lane_of(definition, t.id) for t in definition.user_tasks
                    if definition.nodes.get(t.id) is not None and definition.nodes[t.id].type in USER_TASKS})
    if not isinstance(raw, Mapping):
        problems.append(Problem(f"agents maps each lane to a number of agents ({', '.join(lanes)})", field="agents"))
        return {}
    found = {}
    for lane in lanes:
        value = raw.get(lane)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
            problems.append(Problem(f"how many agents work lane {lane} (1 to 10000)", field=f"agents.{lane}"))
        else:
            found[lane] = value
    problems.extend(Problem(f"the procedure has no lane {lane}", field=f"agents.{lane}") for lane in raw if lane not in lanes)
    return found
