"""Evaluating an agreed criterion (a KPI target) against a window's metrics: pure, no I/O.

A criterion (governance) names a metric, a statistic, a comparator and a target:
- `cycle_time` (p50|p90|p95|mean) - seconds from start to completion of the incidents completed;
- `time_to_task` (p50|p90|p95|mean, with `task`) - seconds from incident start until the task is ready;
- `wait_time` / `work_time` (p50|p90|p95|mean, with `task`) - a task's wait (ready to claimed) or work;
- `check_first_time_pass_rate` (share|rate, with `check`) - incidents that passed it at the first attempt;
- `sla_breach_share` (share|rate, with `timer`) - incidents that breached the SLA timer, of those that
  started the task it is attached to;
- `incidents_completed_share` (share|rate) - incidents started in the window and completed by its end.
The target is a number (a share 0..1, or seconds) or an ISO 8601 duration (`PT4H`).

Status: `missed` when the target is not met; `at_risk` when it is met, but by less than `margin` (a
fraction of the target: at_most misses above the target, and is at risk above target x (1 - margin));
`met` otherwise; `not_enough_data` when fewer than `min_sample` observations back the figure.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.calendar import parse_duration

DURATION_METRICS = {"cycle_time", "time_to_task", "wait_time", "work_time"}
SHARE_METRICS = {"check_first_time_pass_rate", "sla_breach_share", "incidents_completed_share"}
_TASK_FIGURE = {"time_to_task": "reached_after", "wait_time": "wait", "work_time": "work"}
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MIN_SAMPLE = 5


def target_value(target: Any) -> float:
    """A target as a number: numbers as they are, ISO 8601 durations in seconds."""
    if isinstance(target, bool):
        raise ValueError(f"not a target: {target!r}")
    if isinstance(target, int | float):
        return float(target)
    text = str(target).strip()
    try:
        return float(text)
    except ValueError:
        return (parse_duration(text, _REFERENCE) - _REFERENCE).total_seconds()


def _param(criterion: Mapping[str, Any], *names: str) -> Any:
    params = {**(criterion.get("params") or {}), **criterion}
    return next((params[n] for n in names if params.get(n)), None)


def _by(items: list[dict[str, Any]], key: str, value: Any) -> list[dict[str, Any]]:
    return [item for item in items if item.get(key) == value]


def measure(criterion: Mapping[str, Any], metrics: Mapping[str, Any]) -> tuple[float | None, int, str | None]:
    """(value, sample size, element id the figure concerns) of the criterion's metric in `metrics`."""
    metric, statistic = criterion.get("metric"), criterion.get("statistic") or "p50"
    if metric in DURATION_METRICS:
        if statistic not in ("p50", "p90", "p95", "mean"):
            raise ValueError(f"{metric} takes p50, p90, p95 or mean, not {statistic!r}")
        if metric == "cycle_time":
            stats, element = metrics.get("cycle_time") or {}, None
        else:
            element = _param(criterion, "task", "element_id")
            found = _by(list(metrics.get("tasks") or []), "element_id", element)
            stats = found[0][_TASK_FIGURE[metric]] if found else {}
        return stats.get(statistic), int(stats.get("count") or 0), element
    if metric not in SHARE_METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    if statistic not in ("share", "rate"):
        raise ValueError(f"{metric} takes share or rate, not {statistic!r}")
    if metric == "check_first_time_pass_rate":
        check = _param(criterion, "check")
        found = _by(list(metrics.get("checks") or []), "check", check)
        reached = sum(int(c["reached"]) for c in found)
        passed = sum(int(c["first_time_passed"]) for c in found)
        return (passed / reached if reached else None), reached, found[0]["gateway_id"] if found else None
    if metric == "sla_breach_share":
        timer = _param(criterion, "timer", "element_id")
        found = _by(list(metrics.get("sla") or []), "element_id", timer)
        armed = int(found[0].get("armed") or 0) if found else 0
        return (found[0].get("breach_share") if found else None), armed, timer
    incidents = metrics.get("incidents") or {}
    return incidents.get("completed_share"), int(incidents.get("started_in_window") or 0), None


def evaluate_criterion(criterion: Mapping[str, Any], metrics_window: Mapping[str, Any], margin: float = 0.1,
                       *, min_sample: int = DEFAULT_MIN_SAMPLE) -> dict[str, Any]:
    """{status: met|at_risk|missed|not_enough_data, value, target, sample_size, element_id} for one
    criterion over the metrics of its window (already computed with the criterion's filter)."""
    result: dict[str, Any] = {"criterion_id": criterion.get("id"), "name": criterion.get("name"),
                              "metric": criterion.get("metric"), "statistic": criterion.get("statistic"),
                              "comparator": criterion.get("comparator"), "target": None, "value": None,
                              "sample_size": 0, "element_id": None}
    try:
        target = target_value(criterion.get("target"))
        value, sample, element = measure(criterion, metrics_window)
        if criterion.get("comparator") not in ("at_most", "at_least"):
            raise ValueError(f"comparator must be at_most or at_least, not {criterion.get('comparator')!r}")
    except (ValueError, TypeError) as err:
        return {**result, "status": "not_enough_data", "reason": str(err)}
    result.update(target=target, value=None if value is None else round(float(value), 4), sample_size=sample,
                  element_id=element)
    needed = int(criterion.get("min_sample") or min_sample)
    if value is None or sample < needed:
        return {**result, "status": "not_enough_data",
                "reason": f"{sample} observation(s) in the window; {needed} needed"}
    if criterion["comparator"] == "at_most":
        status = "missed" if value > target else "at_risk" if value > target * (1 - margin) else "met"
    else:
        status = "missed" if value < target else "at_risk" if value < target * (1 + margin) else "met"
    return {**result, "status": status}
