"""What-if simulations through the services on SQLite and PostgreSQL: history read from the audit trail of
the active version, declared distributions, the 422 saying what is missing, runners, and evidence."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.db import governance_rows
from engine.errors import Conflict, Invalid
from engine.services import incidents, procedures, simulations, strategy, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import FIXTURES
from tests.support.incidents import frozen, open_task

SIMPLE = (FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes()
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
AGENTS = {"team-a": 3, "team-b": 2}


def _active_with_history(engine: IncidentEngine, count: int = 12) -> None:
    """simple_flow v1 active; `count` incidents, one every 30 minutes from T0, each task done in a known time:
    Log 10 min (every 4th fails the check: Fix 5 min), A 20 min, B 15 min after A, Close 5 min."""
    row, _ = procedures.deploy(engine, SIMPLE, actor="dana")
    with engine.uow() as uow:
        governance_rows.set_status(uow.conn, row["id"], "active")
        uow.commit()
    with frozen(T0) as now:
        for i in range(count):
            now.set(T0 + timedelta(minutes=30 * i))
            view, _ = incidents.start(engine, procedure="simple_flow", data={"priority": "P1" if i % 2 else "P2"})

            def done(view: dict[str, Any], element: str, minutes: int, data: dict[str, Any]) -> dict[str, Any]:
                now.advance(timedelta(minutes=minutes))
                return tasks.complete(engine, open_task(view, element)["id"], data, actor="alice")

            view = done(view, "Task_Log", 10, {"summary": "s", "ok": i % 4 != 0})
            if i % 4 == 0:
                view = done(view, "Task_Fix", 5, {"ok": True})
            view = done(view, "Task_A", 20, {})
            view = done(view, "Task_B", 15, {})
            done(view, "Task_Close", 5, {})


def _criterion(engine: IncidentEngine) -> None:
    strat = strategy.create(engine, "strategy", {"name": "S"})
    objective = strategy.create(engine, "objective", {"strategy_id": strat["id"], "name": "O"})
    strategy.create(engine, "criterion", {"objective_id": objective["id"], "name": "cycle time", "metric": "cycle_time",
                                          "statistic": "p50", "comparator": "at_most", "target": "PT2H",
                                          "procedure_key": "simple_flow"})


def test_a_window_of_history_is_replayed_against_a_new_version(engine: IncidentEngine) -> None:
    _active_with_history(engine)
    _criterion(engine)
    draft, _ = procedures.deploy(engine, SIMPLE.replace(b'name="Branch A"', b'name="Branch A, checked"'), actor="dana")
    with frozen(T0 + timedelta(days=1)):
        queued = simulations.request(engine, "simple_flow", draft["version"], {
            "agents": AGENTS, "since": T0, "until": T0 + timedelta(hours=12), "replications": 4}, actor="olly")
        assert queued["status"] == "queued" and queued["progress"]["replications"] == 4
        assert queued["parameters"]["history_incidents"] == 12 and queued["parameters"]["history_version"] == 1
        done = simulations.run(engine, queued["id"])
    assert done["status"] == "done", done["error"]
    assert done["progress"] == {"phase": "done", "replications_done": 4, "replications": 4}
    report = done["report"]
    inputs = report["inputs"]
    assert inputs["arrivals"] == "history" and inputs["sources"]["Task_Log"] == "history"
    assert inputs["durations"]["Task_Log"]["mean"] == 600 and inputs["durations"]["Task_A"]["mean"] == 1200
    assert inputs["gateways"]["Gateway_Check"] == {"Flow_Fail": 3.0, "Flow_Pass": 9.0}
    assert inputs["retry_gateways"]["Gateway_Check"] == {"Flow_Pass": 3.0}
    assert report["incidents"]["started_in_window"] == {**report["incidents"]["started_in_window"],
                                                        "mean": 12.0, "min": 12.0, "max": 12.0}
    [criterion] = report["criteria"]
    assert criterion["name"] == "cycle time" and criterion["status"] == "met"  # no queue: 50 minutes
    assert 3000 <= criterion["value"] < 3600 and criterion["spread"]["runs"] == 4  # Log + B (never claimed) + Close
    assert {lane["lane"] for lane in report["lanes"]} == {"team-a", "team-b"}


def test_no_history_and_nothing_declared_is_a_422_saying_what_is_missing(engine: IncidentEngine) -> None:
    procedures.deploy(engine, SIMPLE, actor="dana")
    with pytest.raises(Invalid) as caught:
        simulations.request(engine, "simple_flow", 1, {"agents": AGENTS})
    fields = {p.field for p in caught.value.problems}
    assert {"declared.arrivals_per_hour", "declared.tasks.Task_Log", "declared.gateways.Gateway_Check"} <= fields
    declared = {"arrivals_per_hour": 2, "tasks": {t: {"distribution": "exponential", "mean": "PT5M"}
                                                  for t in ("Task_Log", "Task_Fix", "Task_A", "Task_B", "Task_Close")},
                "gateways": {"Gateway_Check": {"Flow_Pass": 4, "Flow_Fail": 1}}}
    queued = simulations.request(engine, "simple_flow", 1, {"agents": AGENTS, "days": 2, "replications": 2,
                                                            "declared": declared})
    assert simulations.run_queued(engine) == 1
    done = simulations.get(engine, "simple_flow", 1, queued["id"])
    assert done["status"] == "done" and done["report"]["inputs"]["arrivals"] == "declared"
    assert simulations.run(engine, queued["id"])["status"] == "done"  # a second runner leaves it alone
    assert simulations.run_queued(engine) == 0


def test_a_finished_simulation_is_attached_as_approval_evidence(engine: IncidentEngine) -> None:
    from engine.services import governance

    procedures.deploy(engine, SIMPLE, actor="dana")
    declared = {"arrivals_per_hour": 1, "tasks": {t: {"distribution": "fixed", "value": 60}
                                                  for t in ("Task_Log", "Task_Fix", "Task_A", "Task_B", "Task_Close")},
                "gateways": {"Gateway_Check": {"Flow_Pass": 1}}}
    queued = simulations.request(engine, "simple_flow", 1, {"agents": AGENTS, "days": 1, "replications": 1,
                                                            "declared": declared})
    with pytest.raises(Conflict):
        simulations.attach(engine, "simple_flow", 1, queued["id"], actor="dana")
    simulations.run(engine, queued["id"])
    assert simulations.attach(engine, "simple_flow", 1, queued["id"], actor="dana")["attached"] is True
    state = governance.status(engine, "simple_flow", 1)
    [evidence] = state["simulations"]
    assert evidence["id"] == queued["id"] and evidence["agents"] == AGENTS
    assert state["events"][-1]["action"] == "simulation_attached"
    assert [s["id"] for s in simulations.page(engine, "simple_flow", 1)] == [queued["id"]]


def test_test_incidents_are_not_the_history_a_simulation_learns_from(engine: IncidentEngine) -> None:
    _active_with_history(engine, count=4)
    with frozen(T0 + timedelta(hours=1)):
        for n in range(3):  # a designer trying the active version: not the centre's history
            incidents.start(engine, procedure="simple_flow", data={"priority": "P1"}, actor="dana", test=True,
                            reference=f"TRY-{n}")
    draft, _ = procedures.deploy(engine, SIMPLE.replace(b'name="Branch A"', b'name="Branch A, tried"'), actor="dana")
    with frozen(T0 + timedelta(days=1)):
        queued = simulations.request(engine, "simple_flow", draft["version"], {
            "agents": AGENTS, "since": T0, "until": T0 + timedelta(hours=12), "replications": 2}, actor="olly")
    assert queued["parameters"]["history_incidents"] == 4
