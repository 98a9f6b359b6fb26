"""Criteria evaluation over a window's metrics: met, at risk, missed, not enough data, for every metric."""
from __future__ import annotations

from typing import Any

import pytest

from engine.monitoring.criteria import evaluate_criterion, target_value


def _stats(count: int, p50: float | None = None, p90: float | None = None) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "p95": p90, "mean": p50, "max": p90}


METRICS: dict[str, Any] = {
    "incidents": {"started_in_window": 10, "completed_share": 0.7},
    "cycle_time": _stats(12, p50=3000.0, p90=14000.0),
    "tasks": [{"element_id": "Task_Triage", "reached_after": _stats(8, 600.0, 1700.0),
               "wait": _stats(8, 300.0, 900.0), "work": _stats(2, 100.0, 200.0)}],
    "checks": [{"check": "triage_complete", "gateway_id": "Gateway_TriageCheck", "reached": 20,
                "first_time_passed": 17}],
    "sla": [{"element_id": "BoundaryEvent_DiagnosisSla", "armed": 10, "breach_share": 0.3}],
}


def crit(metric: str, statistic: str, comparator: str, target: Any, **extra: Any) -> dict[str, Any]:
    return {"id": 7, "objective_id": 1, "name": f"{metric} {statistic}", "metric": metric, "statistic": statistic,
            "comparator": comparator, "target": target, "filter": {}, **extra}


@pytest.mark.parametrize(("criterion", "status", "value", "target", "sample"), [
    # cycle time p90 14000 s against 4 h = 14400 s: met, but within 10 % of the target
    (crit("cycle_time", "p90", "at_most", "PT4H"), "at_risk", 14000.0, 14400.0, 12),
    (crit("cycle_time", "p90", "at_most", "PT5H"), "met", 14000.0, 18000.0, 12),
    (crit("cycle_time", "p90", "at_most", "PT3H"), "missed", 14000.0, 10800.0, 12),
    (crit("cycle_time", "p50", "at_most", 3000), "at_risk", 3000.0, 3000.0, 12),
    (crit("time_to_task", "p90", "at_most", "PT40M", task="Task_Triage"), "met", 1700.0, 2400.0, 8),
    (crit("time_to_task", "p90", "at_most", "PT30M", task="Task_Triage"), "at_risk", 1700.0, 1800.0, 8),
    (crit("time_to_task", "p50", "at_most", "PT5M", params={"task": "Task_Triage"}), "missed", 600.0, 300.0, 8),
    (crit("wait_time", "p90", "at_most", "PT20M", element_id="Task_Triage"), "met", 900.0, 1200.0, 8),
    (crit("work_time", "p50", "at_most", "PT1H", task="Task_Triage"), "not_enough_data", 100.0, 3600.0, 2),
    # 17 of 20 passed first time = 0.85
    (crit("check_first_time_pass_rate", "share", "at_least", 0.8, check="triage_complete"), "at_risk", 0.85, 0.8,
     20),
    (crit("check_first_time_pass_rate", "rate", "at_least", 0.75, check="triage_complete"), "met", 0.85, 0.75, 20),
    (crit("check_first_time_pass_rate", "share", "at_least", "0.9", check="triage_complete"), "missed", 0.85, 0.9,
     20),
    (crit("sla_breach_share", "share", "at_most", 0.25, timer="BoundaryEvent_DiagnosisSla"), "missed", 0.3, 0.25, 10),
    (crit("sla_breach_share", "share", "at_most", 0.5, element_id="BoundaryEvent_DiagnosisSla"), "met", 0.3, 0.5,
     10),
    (crit("incidents_completed_share", "share", "at_least", 0.65), "at_risk", 0.7, 0.65, 10),
    (crit("incidents_completed_share", "share", "at_least", 0.5), "met", 0.7, 0.5, 10),
])
def test_statuses(criterion: dict[str, Any], status: str, value: float, target: float, sample: int) -> None:
    result = evaluate_criterion(criterion, METRICS, 0.1)
    assert (result["status"], result["value"], result["target"], result["sample_size"]) == \
        (status, value, target, sample)
    assert result["criterion_id"] == 7


def test_margin_is_configurable() -> None:
    criterion = crit("cycle_time", "p90", "at_most", "PT4H")
    assert evaluate_criterion(criterion, METRICS, 0.0)["status"] == "met"
    assert evaluate_criterion(criterion, METRICS, 0.5)["status"] == "at_risk"


def test_not_enough_data_names_the_sample_size() -> None:
    few = {**METRICS, "cycle_time": _stats(3, p50=10.0, p90=20.0)}
    result = evaluate_criterion(crit("cycle_time", "p50", "at_most", "PT1H"), few, 0.1)
    assert (result["status"], result["sample_size"], result["value"]) == ("not_enough_data", 3, 10.0)
    assert "3 observation(s)" in result["reason"]
    assert evaluate_criterion(crit("cycle_time", "p50", "at_most", "PT1H"), few, 0.1, min_sample=3)["status"] == "met"
    assert evaluate_criterion(crit("cycle_time", "p50", "at_most", "PT1H", min_sample=4), few, 0.1)["status"] == \
        "not_enough_data"
    unknown_task = evaluate_criterion(crit("time_to_task", "p50", "at_most", "PT1H", task="Task_Nope"), METRICS, 0.1)
    assert (unknown_task["status"], unknown_task["sample_size"]) == ("not_enough_data", 0)
    empty = evaluate_criterion(crit("incidents_completed_share", "share", "at_least", 0.5), {}, 0.1)
    assert (empty["status"], empty["value"]) == ("not_enough_data", None)


@pytest.mark.parametrize("criterion", [
    crit("cycle_time", "share", "at_most", "PT1H"),
    crit("check_first_time_pass_rate", "p90", "at_least", 0.9, check="triage_complete"),
    crit("happiness", "p50", "at_least", 1),
    crit("cycle_time", "p50", "below", "PT1H"),
    crit("cycle_time", "p50", "at_most", "an hour"),
])
def test_a_malformed_criterion_is_reported_not_raised(criterion: dict[str, Any]) -> None:
    result = evaluate_criterion(criterion, METRICS, 0.1)
    assert result["status"] == "not_enough_data" and result["reason"]


def test_target_values() -> None:
    assert target_value("PT4H") == 14400.0 and target_value("P1D") == 86400.0 and target_value("P1W") == 604800.0
    assert target_value(0.95) == 0.95 and target_value("0.95") == 0.95 and target_value(30) == 30.0
    with pytest.raises(ValueError):
        target_value(True)
