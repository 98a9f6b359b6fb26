"""The embedded default with no broker: the in-process scheduler fires timers and delivers the outbox."""
from __future__ import annotations

import time
from datetime import timedelta

from engine.config import Topic
from engine.services import deliveries, incidents
from engine.services.engine_app import IncidentEngine
from workers.inprocess import InProcessScheduler

from ..conftest import make_settings
from ..support.incidents import deploy_bundled, frozen, is_open, major_in_diagnosis, trail
from ..support.webhook import Receiver, running


def test_the_in_process_scheduler_fires_timers_and_delivers(database_url: str) -> None:
    with running(Receiver(secret="k")) as receiver, frozen() as now:
        topics = {"notify-stakeholders": Topic("notify-stakeholders", "wait", receiver.url)}
        settings = make_settings(database_url, outbox_topics=topics, outbox_webhook_secret="k")
        engine = IncidentEngine(settings)
        deploy_bundled(engine)
        view = major_in_diagnosis(engine, "P1")
        scheduler = InProcessScheduler(settings, tick_seconds=0.05).start()
        try:
            deadline = time.monotonic() + 20
            while not is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate"):
                assert time.monotonic() < deadline, "the delivery never happened"
                time.sleep(0.05)
            assert deliveries.for_incident(engine, view["id"])[0]["status"] == "delivered"
            now.advance(timedelta(minutes=31))
            while not trail(engine, view["id"], "timer_fired"):
                assert time.monotonic() < deadline, "the timer never fired"
                time.sleep(0.05)
        finally:
            scheduler.stop()
            scheduler.engine.db.dispose()
        assert len(trail(engine, view["id"], "sla_breached")) == 1
        assert len(receiver.requests) == 1
        engine.db.dispose()
