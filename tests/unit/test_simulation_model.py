"""The what-if model on SimPy, checked against what queueing and the inputs say must come out."""
from __future__ import annotations

from typing import Any

import pytest

from engine.bpmn.parser import load_procedure
from engine.errors import Invalid
from engine.simulation.assemble import assemble
from engine.simulation.distributions import Distribution, declared
from engine.simulation.figures import predict
from engine.simulation.history import read_history
from engine.simulation.run import simulate
from tests.conftest import BUNDLED, FIXTURES

SIMPLE = load_procedure((FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes())
MAJOR = load_procedure((BUNDLED / "major_incident.bpmn").read_bytes())
COMPLAINT = load_procedure((BUNDLED / "customer_complaint.bpmn").read_bytes())


def fixed(seconds: float) -> dict[str, Any]:
    return {"distribution": "fixed", "value": seconds}


def body(definition: Any, work: dict[str, Any], agents: dict[str, int], rate: float, **declared_: Any) -> dict[str, Any]:
    return {"agents": agents, "replications": 3, "declared": {
        "arrivals_per_hour": rate, "tasks": {t.id: work.get(t.id, fixed(60)) for t in definition.user_tasks},
        **declared_}}


def run(definition: Any, request: dict[str, Any], criteria: list[dict[str, Any]] | None = None, hours: int = 200,
        timer: float | None = None) -> dict[str, Any]:
    inputs = assemble(definition, None, request, hours)
    return simulate(definition, inputs, lambda element, data, now: timer, criteria or [], margin=0.1, min_sample=5)


def lane(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in report["lanes"] if item["lane"] == name)


SIMPLE_GATEWAY = {"Gateway_Check": {"Flow_Pass": 0.7, "Flow_Fail": 0.3}}
SIMPLE_RETRY = {"Gateway_Check": {"Flow_Pass": 1, "Flow_Fail": 0}}


def test_utilisation_follows_arrival_rate_times_work_over_agents() -> None:
    # team-a works Log, A and Close (6 min each) and Fix on the 30% that fail the check, at 3 incidents an
    # hour: 3 x (18 + 0.3 x 6) = 59.4 minutes of work an hour for 2 agents; team-b works B (10 min) alone
    request = body(SIMPLE, {"Task_Log": fixed(360), "Task_A": fixed(360), "Task_Close": fixed(360),
                            "Task_Fix": fixed(360), "Task_B": fixed(600)},
                   {"team-a": 2, "team-b": 1}, 3, gateways=SIMPLE_GATEWAY, retry_gateways=SIMPLE_RETRY)
    report = run(SIMPLE, request)
    assert lane(report, "team-a")["utilisation"]["mean"] == pytest.approx(0.495, abs=0.05)
    assert lane(report, "team-b")["utilisation"]["mean"] == pytest.approx(0.5, abs=0.05)
    assert report["incidents"]["started_in_window"]["mean"] == pytest.approx(600, rel=0.1)


def test_too_few_agents_make_the_queue_grow_and_the_wait_long() -> None:
    request = body(SIMPLE, {"Task_Log": fixed(1500)}, {"team-a": 1, "team-b": 5}, 3,
                   gateways=SIMPLE_GATEWAY, retry_gateways=SIMPLE_RETRY)  # over 75 min of work an hour for one
    report = run(SIMPLE, request, hours=100)
    team = lane(report, "team-a")
    assert team["utilisation"]["mean"] > 0.97
    assert team["max_queue"]["mean"] > 20 and team["wait_mean"]["mean"] > 3600


def test_first_and_later_passes_of_a_check_take_their_own_weights() -> None:
    criterion = {"id": "c", "name": "checked first time", "metric": "check_first_time_pass_rate", "statistic": "share",
                 "comparator": "at_least", "target": 0.6, "params": {"check": "checked"}, "filter": {}}
    request = body(SIMPLE, {}, {"team-a": 5, "team-b": 5}, 6, gateways=SIMPLE_GATEWAY,
                   retry_gateways=SIMPLE_RETRY)
    report = run(SIMPLE, request, [criterion])
    [predicted] = report["criteria"]
    assert predicted["value"] == pytest.approx(0.7, abs=0.04) and predicted["status"] == "met"
    assert report["incidents"]["in_error"]["mean"] == 0  # the retry always passes: no runaway loop
    never = body(SIMPLE, {}, {"team-a": 5, "team-b": 5}, 2,
                 gateways={"Gateway_Check": {"Flow_Fail": 1}})
    looping = run(SIMPLE, never, hours=20)
    assert looping["incidents"]["completed"]["mean"] == 0  # never passes: the loop cap puts each one in error
    assert looping["incidents"]["in_error"]["mean"] > 0.8 * looping["incidents"]["started_in_window"]["mean"]


def test_a_non_interrupting_sla_timer_breaches_when_the_task_takes_longer() -> None:
    criterion = {"id": "s", "name": "diagnosis SLA", "metric": "sla_breach_share", "statistic": "share",
                 "comparator": "at_most", "target": 0.1, "params": {"timer": "BoundaryEvent_DiagnosisSla"}, "filter": {}}
    agents = {"service-desk": 5, "incident-managers": 5, "resolvers": 5, "communications": 5}
    gateways = {"Gateway_TriageCheck": {"Flow_TriagePassed": 1}}
    slow = run(MAJOR, body(MAJOR, {"Task_Diagnose": fixed(2400)}, agents, 1, gateways=gateways), [criterion],
               hours=100, timer=1800)
    fast = run(MAJOR, body(MAJOR, {"Task_Diagnose": fixed(600)}, agents, 1, gateways=gateways), [criterion],
               hours=100, timer=1800)
    assert slow["criteria"][0]["value"] > 0.95 and slow["criteria"][0]["status"] == "missed"  # the last ones: not yet
    assert fast["criteria"][0]["value"] == 0.0 and fast["criteria"][0]["status"] == "met"
    escalations = next(t for t in slow["tasks"] if t["element_id"] == "Task_EscalateDiagnosis")
    assert escalations["work_mean"]["mean"] == 60  # the boundary path ran beside the task


def test_an_interrupting_timer_cancels_the_task_and_takes_its_path() -> None:
    agents = {"complaints": 3, "service-desk": 3}
    gateways = {"Gateway_ContactCheck": {"Flow_ContactVerifiedPassed": 1},
                "Gateway_Resolved": {"Flow_ResolvedInformally": 1}}
    report = run(COMPLAINT, body(COMPLAINT, {"Task_TryToResolve": fixed(7200)}, agents, 0.5, gateways=gateways),
                 hours=200, timer=3600)
    tasks = {t["element_id"]: t for t in report["tasks"]}
    assert "Task_SendSummaryResolution" not in tasks  # never finished: the timer always cancelled it first
    assert tasks["Task_Investigate"]["work_mean"]["mean"] == 60


def test_criteria_are_judged_over_runs_and_filters_pick_incidents_by_start_data() -> None:
    agents = {"service-desk": 5, "incident-managers": 5, "resolvers": 5, "communications": 5}
    request = body(MAJOR, {"Task_Resolve": fixed(3000)}, agents, 2, gateways={"Gateway_TriageCheck": {"Flow_TriagePassed": 1}},
                   start_data=[{"priority": "P1"}, {"priority": "P3"}])
    criteria = [{"id": "p1", "name": "P1 incidents resolved", "metric": "time_to_task", "statistic": "p50",
                 "comparator": "at_most", "target": "PT2H", "params": {"task": "Task_Resolve"}, "filter": {"priority": "P1"}},
                {"id": "all", "name": "completed", "metric": "incidents_completed_share", "statistic": "share",
                 "comparator": "at_least", "target": 0.99, "filter": {}}]
    report = run(MAJOR, request, criteria, hours=50, timer=10 ** 6)
    p1, completed = report["criteria"]
    assert p1["sample_size"] == pytest.approx(50, rel=0.35) and p1["status"] == "met"
    assert p1["spread"]["runs"] == 3 and p1["spread"]["min"] <= p1["value"] <= p1["spread"]["max"]
    assert completed["status"] in ("at_risk", "missed")  # the ones still open at the window's end count against


def test_predict_is_met_only_when_every_run_meets_and_missed_when_most_miss() -> None:
    criterion = {"metric": "cycle_time", "statistic": "p50", "comparator": "at_most", "target": 100}

    def figures(value: float) -> dict[str, Any]:
        return {"cycle_time": {"p50": value, "count": 50}}

    assert predict(criterion, [figures(50), figures(60)], 0.1, 5)["status"] == "met"
    assert predict(criterion, [figures(50), figures(120), figures(60)], 0.1, 5)["status"] == "at_risk"
    assert predict(criterion, [figures(150), figures(120), figures(60)], 0.1, 5)["status"] == "missed"
    assert predict(criterion, [figures(95), figures(96)], 0.1, 5)["status"] == "at_risk"


def test_nothing_to_go_on_is_refused_naming_every_missing_input() -> None:
    with pytest.raises(Invalid) as caught:
        assemble(MAJOR, None, {"agents": {}}, 720)
    fields = {p.field for p in caught.value.problems}
    assert "declared.arrivals_per_hour" in fields
    assert {f"declared.tasks.{t.id}" for t in MAJOR.user_tasks} <= fields
    assert "declared.gateways.Gateway_TriageCheck" in fields
    assert {"agents.service-desk", "agents.resolvers"} <= fields
    assert "no incidents of the active version arrived" in caught.value.detail


def test_declared_distributions_are_checked_field_by_field() -> None:
    assert declared({"distribution": "exponential", "mean": "PT10M"}, "x")[0] == Distribution("exponential", (600.0,))
    assert declared({"distribution": "triangular", "low": 1, "mode": 5, "high": 2}, "x")[0] is None
    assert declared({"distribution": "normal", "mean": 1}, "x")[1][0].field == "x.distribution"
    assert declared({"distribution": "fixed"}, "x")[1][0].message == "fixed needs value"
    assert declared({"distribution": "fixed", "value": "soon"}, "x")[0] is None
    with pytest.raises(Invalid) as caught:
        assemble(SIMPLE, None, body(SIMPLE, {}, {"team-a": 1, "team-b": 1}, 2,
                                    gateways={"Gateway_Check": {"Flow_Nowhere": 1}}), 24)
    assert any("not a flow out of this gateway" in p.message for p in caught.value.problems)


def test_history_gives_arrivals_per_hour_work_times_and_choices_by_pass() -> None:
    rows = [
        {"incident_id": "a", "kind": "incident_started", "at": 100.0, "data": {"priority": "P1"}},
        {"incident_id": "a", "kind": "task", "task_id": "t1", "element_id": "Task_Log", "to_state": "ready", "at": 100.0},
        {"incident_id": "a", "kind": "task_claimed", "task_id": "t1", "element_id": "Task_Log", "at": 400.0},
        {"incident_id": "a", "kind": "task", "task_id": "t1", "element_id": "Task_Log", "to_state": "completed", "at": 1000.0},
        {"incident_id": "a", "kind": "gateway", "element_id": "Gateway_Check", "at": 1000.0,
         "data": {"taken": [{"flow": "Flow_Fail"}]}},
        {"incident_id": "a", "kind": "task", "task_id": "t2", "element_id": "Task_Fix", "to_state": "ready", "at": 1000.0},
        {"incident_id": "a", "kind": "task", "task_id": "t2", "element_id": "Task_Fix", "to_state": "completed", "at": 1300.0},
        {"incident_id": "a", "kind": "gateway", "element_id": "Gateway_Check", "at": 1300.0,
         "data": {"taken": [{"flow": "Flow_Pass"}]}},
        {"incident_id": "b", "kind": "incident_started", "at": 7300.0, "data": {"priority": "P2"}},
    ]
    history = read_history(rows, 3, {n.id: n.type for n in SIMPLE.nodes.values()})
    assert [len(h) for h in history.hourly] == [1, 0, 1] and history.hourly[2][0] == {"priority": "P2"}
    assert history.durations["Task_Log"].values == (600.0,)  # claim to completion
    assert history.durations["Task_Fix"].values == (300.0,)  # never claimed: ready to completion
    assert history.branches == {"Gateway_Check": {"Flow_Fail": 1.0}}
    assert history.retry_branches == {"Gateway_Check": {"Flow_Pass": 1.0}}
