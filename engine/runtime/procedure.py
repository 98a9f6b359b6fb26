"""A procedure version ready to run: its parsed definition and SpiffWorkflow spec, cached per process."""
from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

from engine.bpmn.model import ProcedureDefinition


@dataclass(frozen=True)
class RuntimeProcedure:
    id: str
    key: str
    version: int
    sha256: str
    definition: ProcedureDefinition
    spec: Any
    subprocess_specs: dict[str, Any]

    def node_type(self, element_id: str) -> str | None:
        node = self.definition.nodes.get(element_id)
        return node.type if node is not None else None

    def is_service(self, element_id: str) -> bool:
        """Work the outbox does: service and send tasks, and message throw and end events; and business rule
        tasks, which the transition settles itself (mode 'decision')."""
        node = self.definition.nodes.get(element_id)
        if node is None:
            return False
        return node.type in {"serviceTask", "sendTask", "businessRuleTask"} or node.call is not None or (
            node.event_kind == "message" and node.type in {"intermediateThrowEvent", "endEvent"})

    @functools.cached_property
    def cycle_caps(self) -> dict[str, int | None]:
        """Element id -> the repeats of the repeating timer whose firings alone reach it (None: it repeats
        without end, or its cycle is an expression). Those passes are not rework and the loop cap skips them."""
        from engine.bpmn.cycles import parse_cycle

        nodes = self.definition.nodes
        cycles = {n.id: parse_cycle(n.timer.expression) for n in nodes.values()
                  if n.timer is not None and n.timer.kind == "cycle"}
        attached: dict[str, list[str]] = {}
        for node in nodes.values():
            if node.attached_to and node.id not in cycles:
                attached.setdefault(node.attached_to, []).append(node.id)

        def reach(starts: list[str]) -> set[str]:
            seen, todo = set(starts), list(starts)
            while todo:
                node = nodes.get(todo.pop())
                if node is None:
                    continue
                nexts = [self.definition.flows[f].target for f in node.outgoing if f in self.definition.flows]
                for following in [*nexts, *attached.get(node.id, [])]:
                    if following not in seen and following not in cycles:
                        seen.add(following)
                        todo.append(following)
            return seen

        main = reach([n.id for n in nodes.values() if n.type == "startEvent" and n.id not in cycles])
        owned: dict[str, int | None] = {}
        for timer_id, cycle in cycles.items():
            for element in reach([timer_id]) - main:
                owned[element] = cycle.repeats if cycle is not None else None
        return owned

    @functools.cached_property
    def has_plain_tasks(self) -> bool:
        """Whether any element passes through (a plain bpmn:task): if none, the runner never looks for one."""
        return any(node.type == "task" for node in self.definition.nodes.values())

    @functools.cached_property
    def conditional_event_subprocesses(self) -> bool:
        """Does the process have an event subprocess with a conditional start (evaluated at the start)?"""
        nodes = self.definition.nodes
        return any(n.type == "startEvent" and n.event_kind == "conditional" and n.parent is not None
                   and nodes.get(n.parent) is not None and n.cancel_activity is not None for n in nodes.values())

    def passes_through(self, element_id: str | None) -> bool:
        """A plain bpmn:task (no type): nothing for a person or a system to do, so it completes at once (as in
        Camunda 7); the upload says so with a warning."""
        node = self.definition.nodes.get(element_id or "")
        return node is not None and node.type == "task"

    def throws_signal(self, element_id: str) -> bool:
        node = self.definition.nodes.get(element_id)
        return node is not None and node.event_kind == "signal" and node.type in {"intermediateThrowEvent",
                                                                                   "endEvent"}

    @functools.cached_property
    def calls_other_files(self) -> bool:
        """Does the procedure have call activities that run child incidents?"""
        return any(n.call is not None for n in self.definition.nodes.values())

    @functools.cached_property
    def listens(self) -> bool:
        """Does the procedure catch any message or signal (so its incidents may have awaited events)?"""
        return any((n.event_name and n.event_kind in ("message", "signal")
                    and n.type not in ("intermediateThrowEvent", "endEvent")
                    and not (n.type == "startEvent" and n.parent is None)) or n.type == "receiveTask"
                   for n in self.definition.nodes.values())

    @functools.cached_property
    def interrupting(self) -> dict[str, bool]:
        """Start event id -> whether it interrupts its scope, for the start events of event subprocesses."""
        return {n.id: bool(n.cancel_activity) for n in self.definition.nodes.values()
                if n.type == "startEvent" and n.cancel_activity is not None}

    def is_external(self, element_id: str) -> bool:
        node = self.definition.nodes.get(element_id)
        return bool(node is not None and node.external)

    def topic_of(self, element_id: str) -> str | None:
        node = self.definition.nodes.get(element_id)
        return getattr(node, "topic", None) if node is not None else None

    def is_timer(self, element_id: str) -> bool:
        node = self.definition.nodes.get(element_id)
        return node is not None and node.timer is not None

    def decision(self, gateway_id: str, targets: list[str]) -> dict[str, Any]:
        flows = []
        for target in targets:
            flow = self.definition.flow_between(gateway_id, target)
            flows.append({"flow": flow.id if flow else None, "target": target,
                          "name": flow.name if flow else None})
        return {"taken": flows}


class SpecCache:
    """Immutable parsed procedures keyed by (id, sha256); safe to share between threads."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], RuntimeProcedure] = {}
        self._by_id: dict[str, RuntimeProcedure] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> RuntimeProcedure | None:
        return self._items.get(key)

    def by_id(self, procedure_id: str) -> RuntimeProcedure | None:
        return self._by_id.get(procedure_id)

    def put(self, procedure: RuntimeProcedure) -> RuntimeProcedure:
        with self._lock:
            kept = self._items.setdefault((procedure.id, procedure.sha256), procedure)
            self._by_id.setdefault(procedure.id, kept)
            return kept


def prepare_spec(spec: Any, subprocess_specs: dict[str, Any]) -> None:
    """Swap SpiffWorkflow's parallel gateway for ours (same fields, our join merge rule).

    Done after parsing because the spec is shared and read-only afterwards; the class swap keeps the
    parser untouched and the spec out of every incident's serialized state.
    """
    from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
    from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway

    from .boundary_join import ScopedBoundaryEventJoin
    from .event_specs import prepare_events
    from .join import MergingParallelGateway
    from .multi_instance import SWAPS

    prepare_events(spec, subprocess_specs)

    for process in [spec, *subprocess_specs.values()]:
        for task_spec in process.task_specs.values():
            if type(task_spec) is ParallelGateway:
                task_spec.__class__ = MergingParallelGateway
            elif type(task_spec) is BoundaryEventJoin:
                task_spec.__class__ = ScopedBoundaryEventJoin
            elif type(task_spec) in SWAPS:
                task_spec.__class__ = SWAPS[type(task_spec)]
