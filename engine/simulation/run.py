"""Running a simulation: the model replicated, each agreed criterion predicted, each lane's queue and wait."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.bpmn.model import ProcedureDefinition
from engine.checks.declared import check_gateways

from .figures import lane_figures, lanes_over_runs, metrics, predict, spread
from .inputs import Inputs
from .model import Model, TimerSeconds

Progress = Callable[[int, int], None]


def simulate(definition: ProcedureDefinition, inputs: Inputs, timer_seconds: TimerSeconds,
             criteria: Sequence[Mapping[str, Any]], *, margin: float, min_sample: int, loop_cap: int = 50,
             progress: Progress | None = None) -> dict[str, Any]:
    """The prediction: per criterion status, figure and spread; per lane queue, utilisation and wait;
    the incidents simulated per run."""
    model = Model(definition, inputs, timer_seconds, loop_cap)
    sla_tasks = {n.id: str(n.attached_to) for n in definition.nodes.values()
                 if n.timer is not None and n.attached_to and str(n.properties.get("sla", "")).lower() == "true"}
    check_names = {g: c.name for g, c in check_gateways(definition).items()}
    filters = {repr(sorted((c.get("filter") or {}).items())): dict(c.get("filter") or {}) for c in criteria}
    per_filter: dict[str, list[dict[str, Any]]] = {key: [] for key in filters}
    overall: list[dict[str, Any]] = []
    lanes: list[dict[str, dict[str, Any]]] = []
    for index in range(inputs.replications):
        incidents, stats = model.run(inputs.seed * 1_000_003 + index)
        overall.append(metrics(incidents, inputs.horizon, sla_tasks, check_names))
        for key, only in filters.items():
            per_filter[key].append(metrics(incidents, inputs.horizon, sla_tasks, check_names, only) if only
                                   else overall[-1])
        lanes.append(lane_figures(incidents, stats, inputs.horizon))
        if progress is not None:
            progress(index + 1, inputs.replications)
    predictions = [predict(c, per_filter[repr(sorted((c.get("filter") or {}).items()))], margin, min_sample)
                   for c in criteria]
    return {
        "criteria": predictions, "lanes": lanes_over_runs(lanes),
        "incidents": {key: spread([r["incidents"][key] for r in overall])
                      for key in ("started_in_window", "completed", "in_error", "completed_share")},
        "cycle_time": {stat: spread([r["cycle_time"][stat] for r in overall]) for stat in ("p50", "p90", "mean")},
        "tasks": _tasks(overall),
        "inputs": {"hours": inputs.hours, "replications": inputs.replications, "seed": inputs.seed,
                   "agents": inputs.agents, "sources": inputs.sources,
                   "arrivals": "history" if inputs.arrivals.hourly else "declared",
                   "expected_arrivals": inputs.arrivals.expected(inputs.hours),
                   "durations": {e: d.describe() for e, d in sorted(inputs.durations.items())},
                   "gateways": inputs.branches, "retry_gateways": inputs.retry_branches},
    }


def _tasks(overall: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    elements = sorted({t["element_id"] for r in overall for t in r["tasks"]})
    found = []
    for element in elements:
        rows = [next((t for t in r["tasks"] if t["element_id"] == element), None) for r in overall]
        found.append({"element_id": element,
                      "wait_p50": spread([t["wait"]["p50"] if t else None for t in rows]),
                      "wait_p90": spread([t["wait"]["p90"] if t else None for t in rows]),
                      "work_mean": spread([t["work"]["mean"] if t else None for t in rows])})
    return found
