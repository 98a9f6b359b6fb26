"""Which data names are certainly collected before each element: a forward must-analysis over the graph.

A name is collected by a user task's form field, by an assignment in a script, or is start data. A user task
without an inline form accepts any JSON object, so it may collect any name. A name is available at an element only if it is collected on every path from the start to it. A boundary event fires
before its task's form is submitted, so the boundary path carries only what the task started with.
"""
from __future__ import annotations

from engine.bpmn.model import ProcedureDefinition
from engine.expressions import ExpressionError, compile_script
from engine.runtime.script_engine import TIMER_FUNCTIONS

from .graph import CONTAINERS, ScopeGraph, scope_graph

Names = frozenset[str]


def _script_names(text: str | None) -> Names:
    if not text or not text.strip():
        return frozenset()
    try:
        return compile_script(text, allowed_functions=TIMER_FUNCTIONS).assigned
    except ExpressionError:
        return frozenset()


def collected_by(definition: ProcedureDefinition, node_id: str, anything: Names = frozenset()) -> Names:
    """The names a task itself writes: its form fields and its script assignments; `anything` for a user
    task without an inline form (spiff-arena JSON-schema forms, external form keys, no form at all)."""
    node = definition.nodes[node_id]
    names: set[str] = set()
    task = definition.user_task(node_id) if node.type == "userTask" else None
    if task is not None:
        names |= {f.id for f in task.form} if task.form else set(anything)
    names |= _script_names(node.pre_script) | _script_names(node.post_script)
    if node.type == "scriptTask" and definition.spec is not None:
        specs = [definition.spec, *definition.subprocess_specs.values()]
        for spec in specs:
            for task_spec in spec.task_specs.values():
                if getattr(task_spec, "bpmn_id", None) == node_id:
                    names |= _script_names(getattr(task_spec, "script", None))
    return frozenset(names)


class Available:
    """The names available on entry to every element, for the whole process (all scopes)."""

    def __init__(self, definition: ProcedureDefinition, start: Names, wanted: Names) -> None:
        self.definition = definition
        self.entry: dict[str, Names] = {}
        self._gen = {n: collected_by(definition, n, wanted) for n in definition.nodes}
        self._exit(scope_graph(definition, None), start, 0)

    def _exit(self, graph: ScopeGraph, seed: Names, depth: int) -> Names:
        """Solve one scope from `seed`; the names certain at its end events."""
        preds = graph.preds()
        entry: dict[str, Names | None] = {n: None for n in graph.nodes}  # None: not reached yet (top)
        for source in (*graph.starts, *graph.triggered):
            entry[source] = seed
        leaving: dict[str, Names] = {}
        changed = True
        rounds = 0
        while changed and rounds < 10 * (len(graph.nodes) + 1):
            changed, rounds = False, rounds + 1
            for node_id in graph.nodes:
                incoming = [self._along(p, node_id, entry, leaving) for p in preds[node_id] if p in leaving]
                if node_id in graph.starts or node_id in graph.triggered:
                    incoming.append(seed)
                if not incoming:
                    continue
                value = frozenset.intersection(*incoming)
                if value != entry[node_id]:
                    entry[node_id], changed = value, True
                out = value | self._gen[node_id]
                if self.definition.nodes[node_id].type in CONTAINERS and depth < 20:
                    out |= self._exit(scope_graph(self.definition, node_id), value, depth + 1)
                if leaving.get(node_id) != out:
                    leaving[node_id], changed = out, True
        for node_id, known in entry.items():
            self.entry[node_id] = known if known is not None else seed
        ends = [leaving[e] for e in graph.ends if e in leaving]
        return frozenset.intersection(*ends) if ends else seed

    def _along(self, source: str, target: str, entry: dict[str, Names | None], leaving: dict[str, Names]) -> Names:
        """What travels from `source` to `target`: a boundary event gets what its task started with."""
        if self.definition.nodes[target].attached_to == source:
            return entry.get(source) or frozenset()
        return leaving[source]
