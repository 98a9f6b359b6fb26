"""Kill -9 a real worker mid-firing and mid-delivery, flush Redis, restart: the work is done exactly once."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from engine.config import parse_topics
from engine.db import timer_rows
from engine.services import deliveries, incidents
from engine.services.engine_app import IncidentEngine

from ..conftest import make_settings
from ..support.incidents import deploy_bundled, frozen, is_open, major_in_diagnosis, trail
from ..support.webhook import Receiver, running
from .processes import celery_env, kill9, start, stop, wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            stop(proc)


def timer_statuses(engine: IncidentEngine, incident_id: str) -> list[str]:
    with engine.uow(write=False) as uow:
        return [r["status"] for r in timer_rows.for_incident(uow.conn, incident_id)]


def test_timers_survive_a_killed_worker_and_a_flushed_broker(
        pg_url: str, redis_url: str, queue: str, tmp_path: Path, procs: list[Any]) -> None:
    engine = IncidentEngine(make_settings(pg_url))
    deploy_bundled(engine)
    now = datetime.now(UTC)
    with frozen(now - timedelta(hours=2)):  # P1: diagnosis SLA of 30 minutes, long past in real time
        due = [major_in_diagnosis(engine, "P1")["id"] for _ in range(3)]
    with frozen(now - timedelta(minutes=30) + timedelta(seconds=3)):
        later = major_in_diagnosis(engine, "P1")["id"]  # becomes due a few seconds from now
    marker = tmp_path / "firing-started"
    env = celery_env(tmp_path, DATABASE_URL=pg_url, CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue,
                     IE_TEST_HANG_MARKER=str(marker))
    worker = start("worker", env, tmp_path, app="tests.worker.hooked_app")
    beat = start("beat", env, tmp_path)
    procs += [worker, beat]
    wait_for(marker.exists, what="the worker to be inside a timer firing")

    kill9(worker)  # SIGKILL in the middle of the firing's transaction
    kill9(beat)
    assert all(timer_statuses(engine, i) == ["pending"] for i in due)  # rolled back, nothing half-done
    assert all(trail(engine, i, "timer_fired") == [] for i in due)
    redis.Redis.from_url(redis_url).flushdb()  # nothing about a timer lived only in the broker

    procs += [start("worker", env, tmp_path, app="tests.worker.hooked_app"), start("beat", env, tmp_path)]
    for incident_id in [*due, later]:
        wait_for(lambda i=incident_id: timer_statuses(engine, i) == ["fired"], what=f"timer of {incident_id}")
    for incident_id in [*due, later]:
        assert len(trail(engine, incident_id, "timer_fired")) == 1
        assert len(trail(engine, incident_id, "sla_breached")) == 1
        view = incidents.get(engine, incident_id)
        assert [t["element_id"] for t in view["open_tasks"]].count("Task_EscalateDiagnosis") == 1
    engine.db.dispose()


def test_a_webhook_delivery_survives_a_killed_worker_exactly_once(
        pg_url: str, redis_url: str, queue: str, tmp_path: Path, procs: list[Any]) -> None:
    with running(Receiver(secret="hush", block_first=True)) as receiver:
        topics = json.dumps({"notify-stakeholders": {"url": receiver.url, "mode": "wait"}})
        engine = IncidentEngine(make_settings(pg_url, outbox_topics=parse_topics(topics)))
        deploy_bundled(engine)
        view = major_in_diagnosis(engine, "P2")
        assert not is_open(view, "Task_SendStakeholderUpdate")
        env = celery_env(tmp_path, DATABASE_URL=pg_url, CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue,
                         OUTBOX_TOPICS=topics, OUTBOX_WEBHOOK_SECRET="hush", OUTBOX_TIMEOUT_SECONDS="3",
                         OUTBOX_LEASE_SECONDS="4")
        worker = start("worker", env, tmp_path)
        procs += [worker, start("beat", env, tmp_path)]
        assert receiver.arrived.wait(30), "the webhook was never called"

        kill9(worker)  # SIGKILL while it waits for the receiver's answer
        [delivery] = deliveries.for_incident(engine, view["id"])
        assert delivery["status"] == "delivering" and delivery["attempts"][0]["outcome"] == "in_flight"
        assert not is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate")

        procs.append(start("worker", env, tmp_path))
        wait_for(lambda: is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate"),
                 what="the service task to complete after redelivery")
        [delivery] = deliveries.for_incident(engine, view["id"])
        assert delivery["status"] == "delivered"
        assert [a["outcome"] for a in delivery["attempts"]] == ["lost", "delivered"]
        assert [r.key for r in receiver.requests] == [delivery["id"]] * 2  # sent twice, same key...
        assert list(receiver.effects) == [delivery["id"]]  # ...one effect at the receiver
        assert all(r.signature_ok for r in receiver.requests)
        completions = [r for r in trail(engine, view["id"], "task")
                       if r["element_id"] == "Task_NotifyStakeholders" and r["to_state"] == "completed"]
        assert len(completions) == 1  # and one transition in the audit
        engine.db.dispose()
