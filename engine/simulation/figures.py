"""From simulated incidents to the figures monitoring publishes, and from repeated runs to a prediction.

One replication's figures have the shape of engine.monitoring.metrics (cycle time, per task wait, work
and time to reach it, check first-time pass rates, SLA breach shares, completed share), so each agreed
criterion is judged by the very function monitoring uses (engine.monitoring.criteria.evaluate_criterion).
Over the replications a criterion is `met` when every run met it, `missed` when most runs missed it, and
`at_risk` otherwise; the figure is the mean over runs with its spread (min, p10, p90, max).
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from engine.monitoring.criteria import evaluate_criterion
from engine.monitoring.stats import percentile, share, summary

from .model import IncidentRecord, LaneStats


def _matches(data: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(str(data.get(k)) == str(v) for k, v in wanted.items())


def metrics(incidents: Sequence[IncidentRecord], horizon: float, sla_tasks: Mapping[str, str],
            check_names: Mapping[str, str], only: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The window's figures of one replication, for the incidents whose start data matches `only`."""
    chosen = [i for i in incidents if _matches(i.data, only or {})]
    completed = [i for i in chosen if i.end is not None and i.end <= horizon]
    per_task: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    reached: dict[str, set[int]] = defaultdict(set)
    for index, incident in enumerate(chosen):
        firsts: dict[str, float] = {}
        for task in incident.tasks:
            reached[task.element_id].add(index)
            firsts.setdefault(task.element_id, task.ready - incident.start)
            if task.done is not None and task.claimed is not None:
                per_task[task.element_id]["wait"].append(task.claimed - task.ready)
                per_task[task.element_id]["work"].append(task.done - task.claimed)
        for element, after in firsts.items():
            per_task[element]["reached"].append(after)
    tasks = [{"element_id": e, "incidents": len(reached[e]), "wait": summary(f["wait"]), "work": summary(f["work"]),
              "reached_after": summary(f["reached"])} for e, f in sorted(per_task.items())]
    checks = []
    for gateway, name in check_names.items():
        evaluated = [i.checks[gateway] for i in chosen if i.checks.get(gateway)]
        first = sum(1 for outcomes in evaluated if outcomes[0])
        checks.append({"check": name, "gateway_id": gateway, "reached": len(evaluated), "first_time_passed": first,
                       "first_time_pass_rate": share(first, len(evaluated))})
    sla = []
    for timer, attached in sla_tasks.items():
        armed = len(reached.get(attached, set()))
        breached = sum(1 for i in chosen if timer in i.breached)
        sla.append({"element_id": timer, "task": attached, "armed": armed, "breaches": breached,
                    "breach_share": share(breached, armed)})
    return {"incidents": {"started_in_window": len(chosen), "completed": len(completed),
                          "in_error": sum(1 for i in chosen if i.error),
                          "completed_share": share(len(completed), len(chosen))},
            "cycle_time": summary(i.end - i.start for i in completed if i.end is not None),
            "tasks": tasks, "checks": checks, "sla": sla}


def lane_figures(incidents: Sequence[IncidentRecord], stats: Mapping[str, LaneStats], horizon: float
                 ) -> dict[str, dict[str, Any]]:
    waits: dict[str, list[float]] = defaultdict(list)
    for incident in incidents:
        for task in incident.tasks:
            if task.claimed is not None:
                waits[task.lane].append(task.claimed - task.ready)
    return {lane: {"agents": s.agents, "mean_queue": round(s.queue_area / horizon, 3) if horizon else 0.0,
                   "max_queue": s.max_queue, "still_queued": s.queue,
                   "utilisation": round(s.busy_area / (s.agents * horizon), 4) if horizon and s.agents else None,
                   "wait": summary(waits[lane])} for lane, s in stats.items()}


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return {"mean": None, "sd": None, "min": None, "p10": None, "p90": None, "max": None, "runs": 0}
    return {"mean": round(statistics.fmean(kept), 3), "sd": round(statistics.pstdev(kept), 3),
            "min": round(min(kept), 3), "p10": percentile(kept, 0.1), "p90": percentile(kept, 0.9),
            "max": round(max(kept), 3), "runs": len(kept)}


def predict(criterion: Mapping[str, Any], per_run: Sequence[Mapping[str, Any]], margin: float,
            min_sample: int) -> dict[str, Any]:
    """One criterion over the replications' figures: status, figure and spread, and each run's status."""
    judged = [evaluate_criterion(criterion, figures, margin, min_sample=min_sample) for figures in per_run]
    counts = {s: sum(1 for j in judged if j["status"] == s) for s in ("met", "at_risk", "missed", "not_enough_data")}
    runs = len(judged)
    if counts["not_enough_data"] > runs / 2:
        status = "not_enough_data"
    elif counts["met"] == runs:
        status = "met"
    elif counts["missed"] > runs / 2:
        status = "missed"
    else:
        status = "at_risk"
    first = judged[0] if judged else {}
    return {"criterion_id": criterion.get("id"), "name": criterion.get("name"), "metric": criterion.get("metric"),
            "statistic": criterion.get("statistic"), "comparator": criterion.get("comparator"),
            "target": first.get("target"), "element_id": first.get("element_id"), "status": status,
            "value": spread([j["value"] for j in judged])["mean"], "spread": spread([j["value"] for j in judged]),
            "runs": counts, "sample_size": spread([j["sample_size"] for j in judged])["mean"],
            "filter": dict(criterion.get("filter") or {})}


def lanes_over_runs(per_run: Sequence[Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    lanes = sorted({lane for run in per_run for lane in run})
    return [{"lane": lane, "agents": per_run[0][lane]["agents"],
             "mean_queue": spread([r[lane]["mean_queue"] for r in per_run]),
             "max_queue": spread([r[lane]["max_queue"] for r in per_run]),
             "utilisation": spread([r[lane]["utilisation"] for r in per_run]),
             "wait_mean": spread([r[lane]["wait"]["mean"] for r in per_run]),
             "wait_p90": spread([r[lane]["wait"]["p90"] for r in per_run])} for lane in lanes]
