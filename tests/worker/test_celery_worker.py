"""A real Celery worker (in a thread, solo pool) against the machine's Redis or RabbitMQ and PostgreSQL."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from engine.config import Topic
from engine.db import timer_rows
from engine.services import deliveries, incidents
from engine.services.engine_app import IncidentEngine
from workers.celery_app import create_celery

from ..conftest import make_settings
from ..support.incidents import deploy_bundled, frozen, is_open, major_in_diagnosis, trail
from ..support.webhook import Receiver, running
from .conftest import RABBITMQ_URL

pytestmark = pytest.mark.postgres


def wait_for(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout} s waiting for {check}")


@contextmanager
def worker(pg_url: str, broker: str, queue: str, **overrides: Any) -> Iterator[tuple[Celery, IncidentEngine]]:
    settings = make_settings(pg_url, celery_broker_url=broker, celery_queue=queue, **overrides)
    app = create_celery(settings)
    engine = IncidentEngine(settings)
    deploy_bundled(engine)
    app.conf.broker_heartbeat = 2  # the worker's event loop then wakes often enough to stop quickly on AMQP
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, without_heartbeat=False):
            yield app, engine
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)  # leave no test queue behind on a shared broker
    engine.db.dispose()
    cached = getattr(app, "_incident_engine", None)
    if cached:
        cached[1].db.dispose()


def fired(engine: IncidentEngine, incident_id: str) -> bool:
    with engine.uow(write=False) as uow:
        return [r["status"] for r in timer_rows.for_incident(uow.conn, incident_id)] == ["fired"]


def test_timers_fire_through_a_real_worker_on_redis(pg_url: str, redis_url: str, queue: str) -> None:
    with frozen() as now, worker(pg_url, redis_url, queue) as (app, engine):
        ids = [major_in_diagnosis(engine, "P1")["id"] for _ in range(3)]
        now.advance(timedelta(minutes=45))
        app.tasks["workers.tick_timers"].delay()
        app.tasks["workers.tick_timers"].delay()  # a duplicate tick (two beats by mistake) changes nothing
        for incident_id in ids:
            wait_for(lambda i=incident_id: fired(engine, i))
        time.sleep(0.3)  # let the duplicate tick finish too
        for incident_id in ids:
            assert len(trail(engine, incident_id, "timer_fired")) == 1
            [breach] = trail(engine, incident_id, "sla_breached")
            assert breach["data"]["late_by_seconds"] == 15 * 60
            assert is_open(incidents.get(engine, incident_id), "Task_EscalateDiagnosis")


def test_the_outbox_is_delivered_through_a_real_worker(pg_url: str, redis_url: str, queue: str) -> None:
    with running(Receiver(secret="k")) as receiver, frozen():
        topics = {"notify-stakeholders": Topic("notify-stakeholders", "wait", receiver.url)}
        with worker(pg_url, redis_url, queue, outbox_topics=topics, outbox_webhook_secret="k") as (app, engine):
            view = major_in_diagnosis(engine, "P2")
            assert not is_open(view, "Task_SendStakeholderUpdate")
            app.tasks["workers.dispatch_outbox"].delay()
            wait_for(lambda: is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate"))
            [delivery] = deliveries.for_incident(engine, view["id"])
            assert delivery["status"] == "delivered"
            assert [r.signature_ok for r in receiver.requests] == [True]
            app.tasks["workers.deliver_outbox"].delay(delivery["id"])  # a stale duplicate message: a no-op
            time.sleep(0.3)
            assert len(receiver.requests) == 1


def test_timers_fire_through_a_real_worker_on_rabbitmq(pg_url: str, queue: str) -> None:
    with frozen() as now, worker(pg_url, RABBITMQ_URL, queue) as (app, engine):
        view = major_in_diagnosis(engine, "P2")
        now.advance(timedelta(hours=3))
        app.tasks["workers.tick_timers"].delay()
        wait_for(lambda: fired(engine, view["id"]))
        assert len(trail(engine, view["id"], "sla_breached")) == 1
