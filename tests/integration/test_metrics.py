"""Metrics over the scripted data set (tests/monitoring_data.py) match hand-worked figures exactly, on SQLite
and PostgreSQL, with version and incident-data filters."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from engine.errors import Invalid, NotFound
from engine.services import monitoring
from engine.services.engine_app import IncidentEngine
from tests.monitoring_data import KEY, SINCE, UNTIL, build


def _by(items: list[dict[str, Any]], key: str = "element_id") -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def _stats(count: int, p50: float | None, p90: float | None, p95: float | None, mean: float | None,
           top: float | None) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "p95": p95, "mean": mean, "max": top}


@pytest.fixture
def metrics(engine: IncidentEngine) -> dict[str, Any]:
    build(engine)
    return monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL)


def test_incident_counts_and_cycle_time(metrics: dict[str, Any]) -> None:
    assert metrics["incidents"] == {"started": 6, "completed": 4, "cancelled": 1, "in_error": 1, "open": 1,
                                    "started_in_window": 6, "started_and_completed": 3, "completed_share": 0.5}
    # cycle times 3600 (I1), 3600 (I6), 7200 (I2), 9000 (I0)
    assert metrics["cycle_time"] == _stats(4, 5400.0, 8460.0, 8730.0, 5850.0, 9000.0)
    v1, v2 = metrics["versions"]
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["incidents"] == {"started": 5, "completed": 3, "cancelled": 1, "in_error": 1, "open": 1,
                               "started_in_window": 5, "started_and_completed": 2, "completed_share": 0.4}
    assert v1["cycle_time"] == _stats(3, 7200.0, 8640.0, 8820.0, 6600.0, 9000.0)
    assert v2["incidents"]["started"] == 1 and v2["incidents"]["completed_share"] == 1.0
    assert v2["cycle_time"] == _stats(1, 3600.0, 3600.0, 3600.0, 3600.0, 3600.0)


def test_task_wait_work_reach_and_rework(metrics: dict[str, Any]) -> None:
    tasks = _by(metrics["tasks"])
    log, triage = tasks["Task_LogIncident"], tasks["Task_Triage"]
    verify, diagnose = tasks["Task_VerifyCallerIdentity"], tasks["Task_Diagnose"]
    assert (log["incidents"], log["instances"], log["completed"]) == (6, 6, 5)
    assert log["wait"] == _stats(5, 900.0, 1800.0, 1800.0, 1080.0, 1800.0)     # 300 600 900 1800 1800
    assert log["work"] == _stats(4, 750.0, 1530.0, 1665.0, 900.0, 1800.0)     # 300 600 900 1800
    assert triage["wait"] == _stats(3, 1200.0, 1680.0, 1740.0, 1200.0, 1800.0)  # 600 1200 1800
    assert triage["work"] == _stats(2, 1650.0, 2730.0, 2865.0, 1650.0, 3000.0)  # 300 3000
    assert triage["reached_after"] == _stats(3, 1200.0, 3120.0, 3360.0, 1800.0, 3600.0)
    assert (triage["incidents"], triage["lane"], triage["name"]) == (3, "incident-managers", "Triage")
    assert verify["rework"] == {"incidents": 1, "loops": 1, "share": 1.0}
    assert (verify["instances"], verify["wait"]["p50"], verify["reached_after"]["p50"]) == (2, 600.0, 2400.0)
    assert diagnose["wait"]["p50"] == 900.0 and diagnose["work"]["p90"] == 1140.0
    assert diagnose["reached_after"]["p50"] == 3150.0
    # waiting within the incidents completed in the window, over their total cycle time of 23400 s
    assert (log["wait_share"], triage["wait_share"], verify["wait_share"], diagnose["wait_share"]) == \
        (0.1538, 0.1538, 0.0513, 0.0769)
    assert tasks["Task_Resolve"]["incidents"] == 0 and tasks["Task_Resolve"]["wait"]["p50"] is None
    assert metrics["rework"] == {"incidents": 6, "loops": 1, "incidents_with_rework": 1,
                                 "per_incident": 0.1667, "max": 1}


def test_checks_sla_gateways_and_lanes(metrics: dict[str, Any]) -> None:
    [check] = metrics["checks"]
    assert check == {"check": "triage_complete", "gateway_id": "Gateway_TriageCheck", "reached": 3,
                     "first_time_passed": 1, "evaluations": 5, "failures": 3, "overrides": 1,
                     "first_time_pass_rate": 0.3333, "before": ["Task_Triage", "Task_VerifyCallerIdentity"]}
    [sla] = metrics["sla"]
    assert sla == {"element_id": "BoundaryEvent_DiagnosisSla", "name": "Diagnosis SLA", "task": "Task_Diagnose",
                   "lane": "resolvers", "breaches": 1, "incidents_breached": 1, "armed": 2, "breach_share": 0.5,
                   "late_by": _stats(1, 1800.0, 1800.0, 1800.0, 1800.0, 1800.0)}
    [gateway] = metrics["gateways"]
    assert gateway["element_id"] == "Gateway_TriageCheck" and gateway["reached"] == 6
    assert {f["flow"]: f["taken"] for f in gateway["flows"]} == {"Flow_TriagePassed": 3, "Flow_TriageFailed": 3}
    assert _by(metrics["lanes"], "lane") == {
        "incident-managers": {"lane": "incident-managers", "open": 1, "open_at_start": 1, "arrived": 3,
                              "drained": 3, "oldest_age": 68400.0, "median_age": 68400.0},
        "resolvers": {"lane": "resolvers", "open": 0, "open_at_start": 0, "arrived": 2, "drained": 2,
                      "oldest_age": None, "median_age": None},
        "service-desk": {"lane": "service-desk", "open": 0, "open_at_start": 0, "arrived": 8, "drained": 8,
                         "oldest_age": None, "median_age": None},
    }


def test_version_and_data_filters(engine: IncidentEngine) -> None:
    build(engine)
    v2 = monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL, version=2)
    assert v2["incidents"]["started"] == 1 and v2["cycle_time"]["count"] == 1
    assert _by(v2["tasks"])["Task_LogIncident"]["wait"] == _stats(1, 900.0, 900.0, 900.0, 900.0, 900.0)
    assert v2["checks"][0]["reached"] == 1 and v2["checks"][0]["overrides"] == 1
    p1 = monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL, filter={"priority": "P1"})
    assert (p1["incidents"]["started"], p1["incidents"]["completed"], p1["incidents"]["open"]) == (2, 2, 1)
    assert p1["cycle_time"] == _stats(2, 6300.0, 8460.0, 8730.0, 6300.0, 9000.0)   # I1 3600, I0 9000
    assert _by(p1["tasks"])["Task_LogIncident"]["incidents"] == 2
    assert p1["sla"][0]["breaches"] == 0 and p1["checks"][0]["reached"] == 1
    v2_p1 = monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL, version=2, filter={"priority": "P1"})
    assert v2_p1["incidents"]["started"] == 0 and v2_p1["cycle_time"]["count"] == 0
    complaint = monitoring.procedure_metrics(engine, "customer_complaint", since=SINCE, until=UNTIL)
    assert complaint["incidents"]["completed"] == 1 and complaint["cycle_time"]["p50"] == 1800.0


def test_window_edges_and_errors(engine: IncidentEngine) -> None:
    build(engine)
    later = monitoring.procedure_metrics(engine, KEY, since=UNTIL, until=UNTIL + (UNTIL - SINCE))
    assert later["incidents"]["started"] == 1 and later["incidents"]["open"] == 2   # I7 starts; I3 still open
    with pytest.raises(Invalid):
        monitoring.procedure_metrics(engine, KEY, since=UNTIL, until=SINCE)
    with pytest.raises(NotFound):
        monitoring.procedure_metrics(engine, "nope", since=SINCE, until=UNTIL)
    with pytest.raises(NotFound):
        monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL, version=9)


@pytest.mark.postgres
def test_percentiles_agree_with_postgresql_percentile_cont(pg_url: str) -> None:
    """Our Python percentile is PostgreSQL's percentile_cont, figure for figure."""
    from tests.conftest import make_settings

    engine = IncidentEngine(make_settings(pg_url))
    try:
        build(engine)
        ours = _by(monitoring.procedure_metrics(engine, KEY, since=SINCE, until=UNTIL)["tasks"])
        with engine.db.connect() as conn:
            theirs = conn.execute(text(
                "SELECT element_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY w), "
                "percentile_cont(0.9) WITHIN GROUP (ORDER BY w) FROM (SELECT element_id, "
                "extract(epoch FROM coalesce(claimed_at, ended_at) - created_at) AS w FROM tasks "
                "WHERE state = 'completed' AND ended_at >= :s AND ended_at < :u AND procedure_key = :k) x "
                "GROUP BY element_id"), {"s": SINCE, "u": UNTIL, "k": KEY}).all()
        assert theirs
        for element, p50, p90 in theirs:
            assert (ours[element]["wait"]["p50"], ours[element]["wait"]["p90"]) == \
                (round(float(p50), 3), round(float(p90), 3))
    finally:
        engine.db.dispose()
