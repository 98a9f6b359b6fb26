"""The discrete-event model of one procedure version on SimPy: incidents as token processes, lanes as
resources with a declared number of agents.

Each incident walks the procedure graph. A user task queues for an agent of its lane, is worked for a
sampled duration and releases the agent; its boundary timers race it (a non-interrupting one starts its
path beside the task, an interrupting one cancels the task). Decision gateways pick a flow by the
weights observed (first pass and later passes apart, so rework loops end as often as they did), parallel
gateways split and join, embedded subprocesses run their content, timer catch events wait, end events
end a token (a terminate end ends the incident). A token passing one element more than the loop cap puts
its incident in error, as the engine would.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.bpmn.model import NodeDef, ProcedureDefinition
from engine.checks.declared import check_gateways

from .inputs import Inputs

if TYPE_CHECKING:  # imported where a run needs it: a server that never simulates does not load simpy
    import simpy

USER_TASKS = ("userTask", "manualTask")
DECISIONS = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway")
TimerSeconds = Callable[[str, dict[str, Any], float], float | None]


@dataclass
class TaskRecord:
    element_id: str
    lane: str
    ready: float
    claimed: float | None = None
    done: float | None = None


@dataclass
class IncidentRecord:
    start: float
    data: dict[str, Any]
    end: float | None = None
    error: bool = False
    terminated: bool = False
    tasks: list[TaskRecord] = field(default_factory=list)
    checks: dict[str, list[bool]] = field(default_factory=dict)  # gateway -> passed, per evaluation
    breached: set[str] = field(default_factory=set)
    passes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    joins: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Scope:
    """The tokens alive in one process level (the incident, or an embedded subprocess)."""

    def __init__(self, env: simpy.Environment) -> None:
        self.alive = 0
        self.done = env.event()

    def enter(self) -> None:
        self.alive += 1

    def leave(self) -> None:
        self.alive -= 1
        if self.alive == 0 and not self.done.triggered:
            self.done.succeed()


class LaneStats:
    """Time-weighted queue length of one lane, and its agents' busy time."""

    def __init__(self, env: simpy.Environment, agents: int) -> None:
        self.env, self.agents = env, agents
        self.queue = self.busy = self.max_queue = 0
        self.queue_area = self.busy_area = self.last = 0.0

    def _tick(self) -> None:
        now = self.env.now
        self.queue_area += self.queue * (now - self.last)
        self.busy_area += self.busy * (now - self.last)
        self.last = now

    def change(self, queue: int = 0, busy: int = 0) -> None:
        self._tick()
        self.queue += queue
        self.busy += busy
        self.max_queue = max(self.max_queue, self.queue)


class Model:
    """One version's graph with its inputs; `run(seed)` simulates the window once."""

    def __init__(self, definition: ProcedureDefinition, inputs: Inputs, timer_seconds: TimerSeconds,
                 loop_cap: int = 50) -> None:
        self.definition = definition
        self.inputs = inputs
        self.timer_seconds = timer_seconds
        self.loop_cap = loop_cap
        self.nodes = definition.nodes
        self.starts = [n.id for n in self.nodes.values() if n.type == "startEvent" and n.parent is None
                       and not n.incoming]
        self.inner_starts = {n.parent: n.id for n in self.nodes.values() if n.type == "startEvent" and n.parent}
        self.boundary: dict[str, list[NodeDef]] = defaultdict(list)
        for node in self.nodes.values():
            if node.type == "boundaryEvent" and node.attached_to and node.timer is not None:
                self.boundary[node.attached_to].append(node)
        self.outgoing = {n: definition.outgoing(n) for n in self.nodes}
        self.checks = {g: c.pass_flow.id for g, c in check_gateways(definition).items() if c.pass_flow is not None}
        self.lane_of = {t.id: lane_of(definition, t.id) for t in definition.user_tasks}

    def run(self, seed: int) -> tuple[list[IncidentRecord], dict[str, LaneStats]]:
        import simpy

        rng = random.Random(seed)
        env = simpy.Environment()
        lanes = {lane: simpy.Resource(env, capacity=max(1, n)) for lane, n in self.inputs.agents.items()}
        stats = {lane: LaneStats(env, n) for lane, n in self.inputs.agents.items()}
        incidents: list[IncidentRecord] = []
        run = _Run(self, env, rng, lanes, stats)
        for at, data in self._arrivals(rng):
            incident = IncidentRecord(at, data)
            incidents.append(incident)
            env.process(run.incident(incident))
        env.run(until=self.inputs.horizon)
        for lane in stats.values():
            lane.change()
        return incidents, stats

    def _arrivals(self, rng: random.Random) -> list[tuple[float, dict[str, Any]]]:
        arrivals = self.inputs.arrivals
        found: list[tuple[float, dict[str, Any]]] = []
        if arrivals.hourly:
            for hour, incidents in enumerate(arrivals.hourly[: self.inputs.hours]):
                found.extend((hour * 3600.0 + rng.uniform(0, 3600.0), dict(d)) for d in incidents)
            return sorted(found, key=lambda item: item[0])
        rates, now = arrivals.per_hour or (0.0,), 0.0
        pool = arrivals.data or ({},)
        for hour in range(self.inputs.hours):
            rate, end = rates[hour % len(rates)], (hour + 1) * 3600.0
            now = max(now, hour * 3600.0)
            while rate > 0:
                now += rng.expovariate(rate / 3600.0)
                if now >= end:
                    now = end
                    break
                found.append((now, dict(rng.choice(pool))))
        return found


def lane_of(definition: ProcedureDefinition, task_id: str) -> str:
    """The lane whose agents work a user task: its lane, else its first candidate group."""
    task = definition.user_task(task_id)
    if task is None:
        return "(no lane)"
    return task.lane or (task.candidate_groups[0] if task.candidate_groups else "(no lane)")


class _Run:
    """The processes of one replication."""

    def __init__(self, model: Model, env: simpy.Environment, rng: random.Random,
                 lanes: dict[str, simpy.Resource], stats: dict[str, LaneStats]) -> None:
        self.m, self.env, self.rng, self.lanes, self.stats = model, env, rng, lanes, stats

    def incident(self, record: IncidentRecord) -> Generator[Any, Any, None]:
        yield self.env.timeout(record.start)
        scope = _Scope(self.env)
        for start in self.m.starts:
            self.spawn(record, start, scope)
        yield scope.done
        if not record.error:
            record.end = self.env.now

    def spawn(self, record: IncidentRecord, node_id: str, scope: _Scope) -> None:
        scope.enter()  # now, so the scope cannot end before the new token runs
        self.env.process(self.token(record, node_id, scope))

    def token(self, record: IncidentRecord, node_id: str | None, scope: _Scope) -> Generator[Any, Any, None]:
        try:
            while node_id is not None and not record.terminated:
                node = self.m.nodes[node_id]
                record.passes[node_id] += 1
                if record.passes[node_id] > self.m.loop_cap:
                    record.error = record.terminated = True
                    return
                if node.type in USER_TASKS:
                    if (yield from self.user_task(record, node, scope)) == "cancelled":
                        return
                elif node.type == "subProcess" and node.id in self.m.inner_starts:
                    inner = _Scope(self.env)
                    self.spawn(record, self.m.inner_starts[node.id], inner)
                    yield inner.done
                elif node.type == "intermediateCatchEvent" and node.timer is not None:
                    yield self.env.timeout(self._timer(node, record))
                elif node.type == "endEvent":
                    if node.event_kind == "terminate":
                        record.terminated = True
                    return
                elif node.type == "parallelGateway" and len(node.incoming) > 1:
                    record.joins[node.id] += 1
                    if record.joins[node.id] < len(node.incoming):
                        return
                    record.joins[node.id] = 0
                elif node.id in self.m.inputs.durations:
                    yield self.env.timeout(self.m.inputs.durations[node.id].sample(self.rng))
                targets = self.targets(record, node)
                for extra in targets[1:]:
                    self.spawn(record, extra, scope)
                node_id = targets[0] if targets else None
        finally:
            scope.leave()

    def targets(self, record: IncidentRecord, node: NodeDef) -> list[str]:
        flows = self.m.outgoing[node.id]
        if node.type not in DECISIONS or len(flows) < 2:
            return [f.target for f in flows]
        weights = self.m.inputs.branches.get(node.id, {})
        if record.passes[node.id] > 1:
            weights = self.m.inputs.retry_branches.get(node.id) or weights
        chosen = self.rng.choices(flows, weights=[weights.get(f.id, 0.0) for f in flows])[0] \
            if any(weights.get(f.id, 0.0) > 0 for f in flows) else flows[0]
        if node.id in self.m.checks:
            record.checks.setdefault(node.id, []).append(chosen.id == self.m.checks[node.id])
        return [chosen.target]

    def _timer(self, node: NodeDef, record: IncidentRecord) -> float:
        declared = self.m.inputs.timers.get(node.id)
        if declared is not None:
            return declared.sample(self.rng)
        found = self.m.timer_seconds(node.id, record.data, self.env.now)
        return max(0.0, found) if found is not None else float("inf")

    def user_task(self, record: IncidentRecord, node: NodeDef, scope: _Scope) -> Generator[Any, Any, str]:
        lane = self.m.lane_of.get(node.id, "(no lane)")
        task = TaskRecord(node.id, lane, self.env.now)
        record.tasks.append(task)
        if node.id not in self.m.boundary:  # nothing races it: work it in this token's own process
            return (yield from self.work(node, lane, task))
        work = self.env.process(self.work(node, lane, task))
        watchers = [self.env.process(self.watch(record, b, work, scope)) for b in self.m.boundary.get(node.id, ())]
        outcome = yield work
        for watcher in watchers:
            if watcher.is_alive:
                watcher.interrupt()
        return str(outcome)

    def work(self, node: NodeDef, lane: str, task: TaskRecord) -> Generator[Any, Any, str]:
        import simpy

        resource, stats = self.lanes[lane], self.stats[lane]
        duration = self.m.inputs.durations[node.id].sample(self.rng)
        with resource.request() as request:
            stats.change(queue=1)
            try:
                yield request
            except simpy.Interrupt:
                stats.change(queue=-1)
                return "cancelled"
            stats.change(queue=-1, busy=1)
            task.claimed = self.env.now
            try:
                yield self.env.timeout(duration)
            except simpy.Interrupt:
                stats.change(busy=-1)
                return "cancelled"
            stats.change(busy=-1)
            task.done = self.env.now
        return "done"

    def watch(self, record: IncidentRecord, timer: NodeDef, work: simpy.Process,
              scope: _Scope) -> Generator[Any, Any, None]:
        import simpy

        delay = self._timer(timer, record)
        if delay == float("inf"):
            return
        try:
            yield self.env.timeout(delay)
        except simpy.Interrupt:
            return
        if not work.is_alive:
            return
        if str(timer.properties.get("sla", "")).strip().lower() == "true":
            record.breached.add(timer.id)
        for flow in self.m.outgoing[timer.id]:
            self.spawn(record, flow.target, scope)
        if timer.cancel_activity:
            work.interrupt()
