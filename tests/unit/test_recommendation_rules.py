"""Each recommendation rule firing on the figures that call for it, and staying quiet otherwise."""
from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from engine.monitoring import recommendations as rules
from engine.monitoring.recommendations import Limits, recommend

LIMITS = Limits()
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 8, tzinfo=UTC)


def _stats(count: int, p50: float | None = None, p90: float | None = None) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "p95": p90, "mean": p50, "max": p90}


def _task(element: str, lane: str, *, wait_share: float | None = 0.05, incidents: int = 10,
          rework_incidents: int = 0, loops: int = 0) -> dict[str, Any]:
    return {"element_id": element, "name": element.removeprefix("Task_"), "lane": lane, "incidents": incidents,
            "wait": _stats(incidents, 600.0, 1800.0), "work": _stats(incidents, 300.0, 900.0),
            "wait_share": wait_share,
            "rework": {"incidents": rework_incidents, "loops": loops,
                       "share": round(rework_incidents / incidents, 4) if incidents else None}}


def healthy() -> dict[str, Any]:
    """A window in which nothing calls for a recommendation."""
    return {
        "since": SINCE, "until": UNTIL, "version": None,
        "cycle_time": _stats(20, 3600.0, 7200.0),
        "tasks": [_task("Task_Triage", "incident-managers", wait_share=0.2),
                  _task("Task_Diagnose", "resolvers", wait_share=0.1, rework_incidents=1, loops=1)],
        "rework": {"incidents": 20, "loops": 1},
        "checks": [{"check": "triage_complete", "gateway_id": "Gateway_TriageCheck", "reached": 20,
                    "first_time_passed": 18, "first_time_pass_rate": 0.9, "failures": 2, "overrides": 0,
                    "before": ["Task_Triage"]}],
        "sla": [{"element_id": "BoundaryEvent_DiagnosisSla", "name": "Diagnosis SLA", "task": "Task_Diagnose",
                 "lane": "resolvers", "breaches": 1, "incidents_breached": 1, "armed": 10, "breach_share": 0.1,
                 "late_by": _stats(1, 900.0, 900.0)}],
        "gateways": [{"element_id": "Gateway_Risk", "reached": 30, "flows": [
            {"flow": "Flow_Low", "target": "Task_A", "name": "low", "taken": 20},
            {"flow": "Flow_High", "target": "Task_B", "name": "high", "taken": 10}]}],
        "lanes": [{"lane": "resolvers", "open": 2, "open_at_start": 2, "arrived": 10, "drained": 10,
                   "oldest_age": 600.0, "median_age": 300.0}],
    }


def test_a_healthy_window_recommends_nothing() -> None:
    assert recommend(healthy(), {"criteria": []}) == []
    for rule in rules.RULES:
        assert rule(healthy(), {}, LIMITS) is None, rule.__name__


def test_bottleneck_task() -> None:
    metrics = healthy()
    metrics["tasks"][1]["wait_share"] = 0.45
    found = rules.bottleneck_task(metrics, {}, LIMITS)
    assert found is not None and found.element_id == "Task_Diagnose" and found.score == 0.45
    assert "45% of the cycle time of the 20 incidents" in found.message and "resolvers" in found.message
    assert found.evidence["sample_size"] == 20 and found.evidence["window"]["since"] == SINCE.isoformat()
    metrics["cycle_time"]["count"] = 4      # too few completed incidents to say
    assert rules.bottleneck_task(metrics, {}, LIMITS) is None


def test_failing_check_points_at_the_task_before_it() -> None:
    metrics = healthy()
    metrics["checks"][0].update(first_time_passed=9, first_time_pass_rate=0.45, failures=11, overrides=2)
    found = rules.failing_check(metrics, {}, LIMITS)
    assert found is not None and found.element_id == "Gateway_TriageCheck" and found.score == 0.55
    assert "45% of 20 incidents" in found.message and "Task_Triage" in found.message
    assert found.evidence["failures"] == 11 and found.evidence["sample_size"] == 20
    metrics["checks"][0]["reached"] = 3
    assert rules.failing_check(metrics, {}, LIMITS) is None


def test_sla_breached_often() -> None:
    metrics = healthy()
    metrics["sla"][0].update(breaches=6, incidents_breached=5, breach_share=0.5)
    found = rules.sla_breached_often(metrics, {}, LIMITS)
    assert found is not None and found.element_id == "BoundaryEvent_DiagnosisSla" and found.score == 0.5
    assert "5 of 10 incidents" in found.message and "more people in resolvers" in found.message
    assert "revisit the target" in found.message
    metrics["sla"][0]["breach_share"] = 0.19
    assert rules.sla_breached_often(metrics, {}, LIMITS) is None


def test_frequent_rework() -> None:
    metrics = healthy()
    metrics["tasks"][0] = _task("Task_Triage", "incident-managers", rework_incidents=4, loops=6)
    found = rules.frequent_rework(metrics, {}, LIMITS)
    assert found is not None and found.element_id == "Task_Triage" and found.score == 0.4
    assert "4 of 10 incidents" in found.message and "6 extra passes" in found.message
    metrics["tasks"][0] = _task("Task_Triage", "incident-managers", rework_incidents=2, loops=2)
    assert rules.frequent_rework(metrics, {}, LIMITS) is None


def test_path_never_taken() -> None:
    metrics = healthy()
    metrics["gateways"][0]["flows"][1]["taken"] = 0
    found = rules.path_never_taken(metrics, {}, LIMITS)
    assert found is not None and found.element_id == "Flow_High"
    assert found.evidence["gateway"] == "Gateway_Risk" and found.evidence["sample_size"] == 30
    metrics["gateways"][0]["reached"] = 12      # not reached often enough to conclude anything
    assert rules.path_never_taken(metrics, {}, LIMITS) is None


def test_lane_queue_growing() -> None:
    metrics = healthy()
    metrics["lanes"][0].update(arrived=20, drained=12, open_at_start=2, open=10, oldest_age=7200.0)
    found = rules.lane_queue_growing(metrics, {}, LIMITS)
    assert found is not None and found.score == 0.4 and found.evidence["lane"] == "resolvers"
    assert "received 20 tasks and finished 12" in found.message and "from 2 to 10" in found.message
    metrics["lanes"][0].update(arrived=20, drained=18, open=4)   # grows, but drains nearly as fast
    assert rules.lane_queue_growing(metrics, {}, LIMITS) is None


def _evaluation(status: str, value: float) -> dict[str, Any]:
    return {"criterion_id": 3, "name": "P1 cycle time", "metric": "cycle_time", "statistic": "p90",
            "comparator": "at_most", "target": 14400.0, "value": value, "sample_size": 9, "status": status,
            "element_id": None}


def test_criterion_missed_in_consecutive_windows() -> None:
    history = {"criteria": [[_evaluation("met", 9000.0)], [_evaluation("missed", 15000.0)],
                            [_evaluation("missed", 16000.0)]]}
    found = rules.criterion_missed_repeatedly(healthy(), history, LIMITS)
    assert found is not None and found.score == 1.2
    assert found.evidence["streak"] == 2 and found.evidence["values"] == [15000.0, 16000.0]
    assert "missed in each of the last 2 windows" in found.message
    broken = {"criteria": [[_evaluation("missed", 15000.0)], [_evaluation("met", 9000.0)],
                           [_evaluation("missed", 16000.0)]]}
    assert rules.criterion_missed_repeatedly(healthy(), broken, LIMITS) is None
    assert rules.criterion_missed_repeatedly(healthy(), {"criteria": []}, LIMITS) is None


def test_recommendations_are_ranked_by_score() -> None:
    metrics = copy.deepcopy(healthy())
    metrics["tasks"][1]["wait_share"] = 0.45
    metrics["checks"][0].update(first_time_pass_rate=0.3)
    metrics["gateways"][0]["flows"][1]["taken"] = 0
    history = {"criteria": [[_evaluation("missed", 15000.0)], [_evaluation("missed", 16000.0)]]}
    ranked = recommend(metrics, history)
    assert [(r["rank"], r["rule"]) for r in ranked] == [
        (1, "criterion_missed_repeatedly"), (2, "failing_check"), (3, "bottleneck_task"), (4, "path_never_taken")]
    assert all(r["evidence"]["window"]["until"] == UNTIL.isoformat() for r in ranked)
