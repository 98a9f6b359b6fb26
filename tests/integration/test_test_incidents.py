"""Test incidents change no monitoring figure, and the retention job purges them with every row they wrote."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from engine.db.tables import (
    audit,
    check_results,
    idempotency,
    incidents,
    metadata,
    outbox,
    task_candidates,
    tasks,
    timers,
)
from engine.services import checks, monitoring, strategy, test_incidents
from engine.services import incidents as incident_service
from engine.services import tasks as task_service
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.monitoring_data import KEY, SINCE, UNTIL, Builder, build
from tests.support.incidents import deploy_bundled, frozen, major_in_diagnosis, open_task


def _figures(engine: IncidentEngine, objective: str) -> dict[str, Any]:
    window = {"since": SINCE, "until": UNTIL}
    return {"metrics": monitoring.procedure_metrics(engine, KEY, **window),
            "criteria": monitoring.criteria_status(engine, objective=objective, **window)["items"],
            "recommendations": monitoring.recommendations(engine, KEY, **window)["items"],
            "adherence": checks.adherence(engine, KEY)}


def _copy_as_test(engine: IncidentEngine, built: Builder) -> int:
    """Every incident of the scripted set again, as a test incident with all its rows (new ids)."""
    ids: dict[str, str] = {}

    def new(old: Any) -> Any:
        return ids.setdefault(old, str(uuid.uuid4())) if old else old

    rows = {
        incidents: [{**r, "id": new(r["id"]), "reference": f"test-{r['reference']}", "test": True} for r in built.incidents],
        tasks: [{**r, "id": new(r["id"]), "incident_id": new(r["incident_id"]), "test": True} for r in built.tasks],
        check_results: [{**r, "incident_id": new(r["incident_id"]), "test": True} for r in built.checks],
        audit: [{**r, "incident_id": new(r["incident_id"]), "task_id": new(r["task_id"]), "test": True}
                for r in sorted(built.audit, key=lambda r: r["at"])],
    }
    with engine.uow() as uow:
        for table, table_rows in rows.items():
            uow.conn.execute(table.insert(), table_rows)
        uow.commit()
    return len(rows[incidents])


def test_test_incidents_change_no_metric_criterion_recommendation_or_adherence_figure(engine: IncidentEngine) -> None:
    engine.settings = make_settings(engine.settings.database_url, monitoring_min_sample=1)  # rules speak up
    built = build(engine)
    goal = strategy.create(engine, "strategy", {"name": "Resilience"}, actor="dee")
    objective = strategy.create(engine, "objective", {"strategy_id": goal["id"], "name": "Fast"}, actor="dee")["id"]
    for statistic, target in (("p95", "PT2H"), ("p50", "PT1H")):
        strategy.create(engine, "criterion", {"objective_id": objective, "name": f"cycle {statistic}",
                                              "metric": "cycle_time", "statistic": statistic, "comparator": "at_most",
                                              "target": target, "procedure_key": KEY}, actor="dee")
    before = _figures(engine, objective)
    assert before["metrics"]["incidents"]["started"] == 6 and before["criteria"] and before["recommendations"]

    assert _copy_as_test(engine, built) == len(built.incidents)
    assert _figures(engine, objective) == before


def _count(engine: IncidentEngine, table: Any, **where: Any) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column].in_(value) if isinstance(value, list) else table.c[column] == value)
    with engine.uow(write=False) as uow:
        return int(uow.conn.execute(query).scalar() or 0)


def test_the_retention_job_purges_idle_test_incidents_with_everything_they_wrote(engine: IncidentEngine) -> None:
    deploy_bundled(engine)
    with frozen() as now:
        old = major_in_diagnosis(engine, test=True)  # tasks, a check, an armed SLA timer, a queued notification
        task = open_task(old, "Task_Diagnose")
        task_service.complete(engine, task["id"], {"root_cause": "power"}, actor="tester", idempotency_key="k-1")
        live = major_in_diagnosis(engine)
        now.advance(timedelta(days=6))
        recent = major_in_diagnosis(engine, test=True)
        now.advance(timedelta(days=1, hours=1))  # `old` idle for 7 days and an hour; `recent` for an hour

        task_ids = [r["id"] for r in _rows(engine, tasks, old["id"])]
        before = {t.name: _count(engine, t, incident_id=old["id"]) for t in (tasks, audit, check_results, timers, outbox)}
        assert all(before.values()), before  # the old test incident wrote into every one of them
        assert _count(engine, idempotency, scope=[f"complete:{t}" for t in task_ids]) == 1

        assert test_incidents.purge_expired(engine) == 1
        for table in metadata.sorted_tables:
            if "incident_id" in table.c:
                assert _count(engine, table, incident_id=old["id"]) == 0, table.name
        assert _count(engine, incidents, id=old["id"]) == 0
        assert _count(engine, task_candidates, task_id=task_ids) == 0
        assert _count(engine, idempotency, scope=[f"complete:{t}" for t in task_ids]) == 0
        for kept in (live, recent):  # live incidents are never purged; a recent test incident stays
            assert incident_service.get(engine, kept["id"])["id"] == kept["id"]
            assert _count(engine, audit, incident_id=kept["id"]) > 0
        assert test_incidents.purge_expired(engine) == 0
        now.advance(timedelta(days=7))
        assert test_incidents.purge_expired(engine) == 1  # `recent`, in its turn
        assert incident_service.get(engine, live["id"])["test"] is False


def _rows(engine: IncidentEngine, table: Any, incident_id: str) -> list[dict[str, Any]]:
    with engine.uow(write=False) as uow:
        return [dict(r) for r in uow.conn.execute(select(table).where(table.c.incident_id == incident_id)).mappings()]
