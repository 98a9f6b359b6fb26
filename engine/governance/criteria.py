"""Agreed criteria: the metrics monitoring computes, and which statistic, target and parameters each takes.

A criterion says, for example, "the 95th percentile of the time from incident start to task Task_Resolve
completed is at most PT15M for P1 incidents". `validate` checks one criterion's combination of fields;
`describe` turns it into the sentence that briefings and reports show.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.calendar import parse_duration
from engine.errors import Invalid, Problem

# what monitoring (engine/monitoring/criteria.py) evaluates for a duration metric
DURATION_STATISTICS = ("p50", "p90", "p95", "mean")
COMPARATORS = ("at_most", "at_least")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Metric:
    """A metric the monitoring issue computes from the audit trail."""

    name: str
    description: str
    unit: str  # "duration" (ISO 8601 target) or "share" (0..1) or "rate" (per hour)
    statistics: tuple[str, ...]
    parameter: str | None = None  # the BPMN element the metric is about: task, check or timer
    parameter_required: bool = False


METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("cycle_time", "time from incident start to incident end", "duration", DURATION_STATISTICS),
    Metric("time_to_task", "time from incident start to a task completed", "duration", DURATION_STATISTICS,
           "task", True),
    Metric("wait_time", "time a task waits, from ready to claimed", "duration", DURATION_STATISTICS,
           "task", True),
    Metric("work_time", "time a task is worked, from claimed to completed", "duration", DURATION_STATISTICS,
           "task", True),
    Metric("check_first_time_pass_rate", "share of incidents passing a check gateway the first time", "share",
           ("share",), "check", True),
    Metric("sla_breach_share", "share of incidents in which an SLA timer fired (one timer, or any)", "share",
           ("share",), "timer", False),
    Metric("incidents_completed_share", "share of incidents that ended normally (not escalated, cancelled or "
           "failed)", "share", ("share",)),
)}
_STAT_WORDS = {"p50": "median", "p90": "90th percentile", "p95": "95th percentile", "p99": "99th percentile",
               "mean": "mean", "max": "maximum", "share": "share"}


def _target_problem(metric: Metric, target: Any) -> str | None:
    if metric.unit == "duration":
        if not isinstance(target, str):
            return "the target of a duration metric is an ISO 8601 duration such as PT15M"
        try:
            parse_duration(target, datetime(2000, 1, 1, tzinfo=UTC))
        except ValueError as err:
            return str(err)
        return None
    if isinstance(target, bool) or not isinstance(target, int | float):
        return f"the target of a {metric.unit} metric is a number"
    if metric.unit == "share" and not 0 <= target <= 1:
        return "a share is between 0 and 1"
    if target < 0:
        return "the target cannot be negative"
    return None


def validate(criterion: Mapping[str, Any]) -> None:
    """Raise Invalid naming every field whose value does not fit the metric."""
    problems: list[Problem] = []
    metric = METRICS.get(str(criterion.get("metric")))
    if metric is None:
        raise Invalid("unknown metric", [Problem(f"one of: {', '.join(METRICS)}", field="metric")])
    if criterion.get("statistic") not in metric.statistics:
        problems.append(Problem(f"{metric.name} takes the statistic {' or '.join(metric.statistics)}",
                                field="statistic"))
    if criterion.get("comparator") not in COMPARATORS:
        problems.append(Problem(f"one of: {', '.join(COMPARATORS)}", field="comparator"))
    target_problem = _target_problem(metric, criterion.get("target"))
    if target_problem:
        problems.append(Problem(target_problem, field="target"))
    params = dict(criterion.get("params") or {})
    allowed = {metric.parameter} if metric.parameter else set()
    problems.extend(Problem(f"{metric.name} takes no parameter {key!r}", field=f"params.{key}")
                    for key in params if key not in allowed)
    if metric.parameter_required and not params.get(metric.parameter or ""):
        problems.append(Problem(f"{metric.name} needs the BPMN id of the {metric.parameter}",
                                field=f"params.{metric.parameter}"))
    for key, value in dict(criterion.get("filter") or {}).items():
        if not _NAME.match(str(key)) or not isinstance(value, str | int | float | bool):
            problems.append(Problem("a filter is incident data key = a plain value", field=f"filter.{key}"))
    if problems:
        raise Invalid("the criterion does not fit its metric", problems)


def describe(criterion: Mapping[str, Any]) -> str:
    """One sentence: "95th percentile of time from incident start to task Task_X completed at most PT15M (priority=P1)"."""
    metric = METRICS.get(str(criterion.get("metric")))
    what = metric.description if metric else str(criterion.get("metric"))
    params = criterion.get("params") or {}
    if metric and metric.parameter and params.get(metric.parameter):
        what += f" [{metric.parameter} {params[metric.parameter]}]"
    statistic = _STAT_WORDS.get(str(criterion.get("statistic")), str(criterion.get("statistic")))
    comparator = str(criterion.get("comparator", "")).replace("_", " ")
    text = f"{statistic} of {what} {comparator} {criterion.get('target')}"
    scope = ", ".join(f"{k}={v}" for k, v in (criterion.get("filter") or {}).items())
    if criterion.get("procedure_key"):
        scope = ", ".join(filter(None, [f"procedure {criterion['procedure_key']}", scope]))
    return f"{text} ({scope})" if scope else text


def catalogue() -> list[dict[str, Any]]:
    """The metrics, for clients building a criterion form."""
    return [{"name": m.name, "description": m.description, "unit": m.unit, "statistics": list(m.statistics),
             "parameter": m.parameter, "parameter_required": m.parameter_required} for m in METRICS.values()]
