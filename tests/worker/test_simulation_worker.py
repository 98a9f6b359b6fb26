"""A what-if simulation queued through the service is picked up by beat's dispatch task and run by a real
Celery worker (in a thread, solo pool) on Redis and PostgreSQL, with its progress stored."""
from __future__ import annotations

import pytest
from celery.contrib.testing.worker import start_worker

from engine.services import procedures, simulations
from engine.services.engine_app import IncidentEngine
from workers.celery_app import create_celery

from ..conftest import FIXTURES, make_settings
from .test_celery_worker import wait_for

pytestmark = pytest.mark.postgres


def test_a_simulation_runs_on_a_real_worker(pg_url: str, redis_url: str, queue: str) -> None:
    settings = make_settings(pg_url, celery_broker_url=redis_url, celery_queue=queue)
    app = create_celery(settings)
    engine = IncidentEngine(settings)
    procedures.deploy(engine, (FIXTURES / "bpmn" / "simple_flow.bpmn").read_bytes(), actor="dana")
    declared = {"arrivals_per_hour": 2, "tasks": {t: {"distribution": "exponential", "mean": "PT5M"}
                                                  for t in ("Task_Log", "Task_Fix", "Task_A", "Task_B", "Task_Close")},
                "gateways": {"Gateway_Check": {"Flow_Pass": 3, "Flow_Fail": 1}}}
    queued = simulations.request(engine, "simple_flow", 1, {"agents": {"team-a": 2, "team-b": 1}, "days": 2,
                                                            "replications": 3, "declared": declared})
    assert "workers.dispatch_simulations" in {e["task"] for e in app.conf.beat_schedule.values()}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            app.tasks["workers.dispatch_simulations"].delay()

            def finished() -> bool:
                return simulations.get(engine, "simple_flow", 1, queued["id"])["status"] in ("done", "error")

            wait_for(finished, timeout=120)
        done = simulations.get(engine, "simple_flow", 1, queued["id"])
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        engine.db.dispose()
        cached = getattr(app, "_incident_engine", None)
        if cached:
            cached[1].db.dispose()
    assert done["status"] == "done", done["error"]
    assert done["progress"] == {"phase": "done", "replications_done": 3, "replications": 3}
