"""Concurrent fetches on PostgreSQL never lock one external task twice (FOR UPDATE SKIP LOCKED)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.services import external_tasks, incidents
from engine.services.engine_app import IncidentEngine
from engine.services.external_tasks import TopicRequest
from tests.conftest import make_settings
from tests.support.procedures import deploy_active

CHARGE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "external_charge.bpmn"


@pytest.mark.postgres
def test_concurrent_fetches_share_the_tasks_without_overlap(pg_url: str) -> None:
    engine = IncidentEngine(make_settings(pg_url))
    try:
        deploy_active(engine, CHARGE)
        for n in range(20):
            incidents.start(engine, procedure="external_charge", reference=f"R-{n}", data={"amount": n})
        got: dict[str, list[str]] = {}
        barrier = threading.Barrier(4)

        def fetch(worker: str) -> None:
            barrier.wait()
            mine = got.setdefault(worker, [])
            while True:
                locked = external_tasks.fetch_and_lock(engine, worker_id=worker, max_tasks=2,
                                                       topics=[TopicRequest("charge-card", 60_000)])
                if not locked:
                    return
                mine.extend(t["id"] for t in locked)

        threads = [threading.Thread(target=fetch, args=(f"w{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        every = [task for tasks in got.values() for task in tasks]
        assert len(every) == 20 and len(set(every)) == 20
    finally:
        engine.db.dispose()
