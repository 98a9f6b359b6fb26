"""Side effects through the outbox on SQLite and PostgreSQL: signed webhooks, retries, dead letters, wait topics."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from engine.config import Topic
from engine.services import deliveries, incidents, outbox
from engine.services.delivery import Result
from engine.services.engine_app import IncidentEngine
from engine.services.outbox_settle import settle

from ..conftest import make_settings
from ..support.incidents import complete, deploy_bundled, frozen, is_open, major_in_diagnosis, trail
from ..support.smtp import smtp_server
from ..support.webhook import Receiver, running

SECRET = "s3cret"
Build = Callable[..., IncidentEngine]


@pytest.fixture
def build(database_url: str) -> Iterator[Build]:
    made: list[IncidentEngine] = []

    def make(url: str | None = None, mode: str = "fire_and_forget", **overrides: Any) -> IncidentEngine:
        topics = {"notify-stakeholders": Topic("notify-stakeholders", mode, url)}
        overrides.setdefault("outbox_topics", topics)
        engine = IncidentEngine(make_settings(database_url, outbox_webhook_secret=SECRET, **overrides))
        made.append(engine)
        deploy_bundled(engine)
        return engine

    yield make
    for engine in made:
        engine.db.dispose()


def only_delivery(engine: IncidentEngine, incident_id: str) -> dict[str, Any]:
    [found] = deliveries.for_incident(engine, incident_id)
    return found


def test_a_fire_and_forget_notification_is_posted_signed_with_its_key(build: Build) -> None:
    with running(Receiver(secret=SECRET)) as receiver, frozen():
        engine = build(receiver.url)
        view = major_in_diagnosis(engine)
        assert is_open(view, "Task_SendStakeholderUpdate")  # the service task did not wait
        pending = only_delivery(engine, view["id"])
        assert (pending["status"], pending["mode"], pending["attempts"]) == ("pending", "fire_and_forget", [])
        assert outbox.deliver_due(engine) == 1
        [request] = receiver.requests
        assert request.signature_ok is True
        assert request.key == pending["id"] and request.topic == "notify-stakeholders" and request.attempt == "1"
        assert request.body["incident_id"] == view["id"] and request.body["element_id"] == "Task_NotifyStakeholders"
        assert request.body["data"]["priority"] == "P1"
        done = only_delivery(engine, view["id"])
        assert done["status"] == "delivered" and done["attempt_count"] == 1
        assert [(a["outcome"], a["http_status"]) for a in done["attempts"]] == [("delivered", 200)]
        assert outbox.deliver_due(engine) == 0


def test_failures_are_retried_with_exponential_backoff_and_jitter(build: Build) -> None:
    with running(Receiver(secret=SECRET, statuses=[500, 503])) as receiver, frozen() as now:
        engine = build(receiver.url, outbox_backoff_seconds=10.0)
        view = major_in_diagnosis(engine)
        assert outbox.deliver_due(engine) == 1
        first = only_delivery(engine, view["id"])
        assert first["status"] == "pending" and first["last_error"] == "HTTP 500 Internal Server Error"
        assert now.now() + timedelta(seconds=5) <= first["next_attempt_at"] <= now.now() + timedelta(seconds=10)
        assert outbox.deliver_due(engine) == 0  # not due yet
        now.set(first["next_attempt_at"])
        assert outbox.deliver_due(engine) == 1
        second = only_delivery(engine, view["id"])
        assert now.now() + timedelta(seconds=10) <= second["next_attempt_at"] <= now.now() + timedelta(seconds=20)
        now.set(second["next_attempt_at"])
        assert outbox.deliver_due(engine) == 1
        done = only_delivery(engine, view["id"])
        assert done["status"] == "delivered" and done["last_error"] is None
        assert [(a["outcome"], a["http_status"]) for a in done["attempts"]] == [
            ("failed", 500), ("failed", 503), ("delivered", 200)]
        assert {r.key for r in receiver.requests} == {done["id"]} and len(receiver.effects) == 1


def test_a_delivery_is_dead_after_the_last_attempt(build: Build) -> None:
    with running(Receiver(secret=SECRET, statuses=[502] * 10)) as receiver, frozen() as now:
        engine = build(receiver.url, outbox_max_attempts=3, outbox_backoff_seconds=1.0)
        view = major_in_diagnosis(engine)
        for _ in range(3):
            assert outbox.deliver_due(engine) == 1
            now.advance(timedelta(seconds=5))
        assert outbox.deliver_due(engine) == 0
        dead = only_delivery(engine, view["id"])
        assert dead["status"] == "dead" and dead["attempt_count"] == 3 and "502" in dead["last_error"]
        [event] = trail(engine, view["id"], "delivery_dead")
        assert event["data"]["attempts"] == 3 and event["actor"] == "system:outbox"
        assert incidents.get(engine, view["id"])["status"] == "running"  # fire-and-forget: the work goes on
        assert len(receiver.requests) == 3


def test_a_business_refusal_is_not_retried(build: Build) -> None:
    with running(Receiver(secret=SECRET, statuses=[422])) as receiver, frozen():
        engine = build(receiver.url)
        view = major_in_diagnosis(engine)
        assert outbox.deliver_due(engine) == 1
        dead = only_delivery(engine, view["id"])
        assert dead["status"] == "dead" and dead["attempts"][0]["outcome"] == "rejected"
        assert len(receiver.requests) == 1


def test_a_wait_topic_completes_the_service_task_only_after_delivery(build: Build) -> None:
    with running(Receiver(secret=SECRET, statuses=[500])) as receiver, frozen() as now:
        engine = build(receiver.url, mode="wait", outbox_backoff_seconds=1.0)
        view = major_in_diagnosis(engine)
        assert not is_open(view, "Task_SendStakeholderUpdate")  # the service task waits on the delivery
        view = complete(engine, view, "Task_Diagnose", {"root_cause": "power"})  # a later transition
        assert len(deliveries.for_incident(engine, view["id"])) == 1  # ...queues nothing twice
        assert outbox.deliver_due(engine) == 1
        assert not is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate")
        now.advance(timedelta(seconds=2))
        assert outbox.deliver_due(engine) == 1
        view = incidents.get(engine, view["id"])
        assert is_open(view, "Task_SendStakeholderUpdate")
        done = [r for r in trail(engine, view["id"], "task")
                if r["element_id"] == "Task_NotifyStakeholders" and r["to_state"] == "completed"]
        assert len(done) == 1 and done[0]["actor"] == "system:outbox"
        assert done[0]["data"]["delivery_id"] == only_delivery(engine, view["id"])["id"]
        assert done[0]["data"]["attempt"] == 2 and done[0]["data"]["http_status"] == 200


def test_a_dead_wait_delivery_puts_the_incident_in_error(build: Build) -> None:
    with running(Receiver(secret=SECRET, statuses=[404])) as receiver, frozen():
        engine = build(receiver.url, mode="wait")
        view = major_in_diagnosis(engine)
        assert outbox.deliver_due(engine) == 1
        failed = incidents.get(engine, view["id"])
        assert failed["status"] == "error" and "notify-stakeholders" in failed["error"]
        kinds = [r["kind"] for r in trail(engine, view["id"])]
        assert kinds[-2:] == ["delivery_dead", "incident_error"]


def test_a_claim_whose_worker_died_is_taken_over_after_its_lease(build: Build) -> None:
    with running(Receiver(secret=SECRET)) as receiver, frozen() as now:
        engine = build(receiver.url, mode="wait", outbox_lease_seconds=30.0)
        view = major_in_diagnosis(engine)
        [claim] = outbox._claim(engine, 5)  # a worker claimed it, then vanished before settling
        assert outbox.deliver_due(engine) == 0  # its lease still runs
        now.advance(timedelta(seconds=31))
        assert outbox.deliver_due(engine) == 1
        done = only_delivery(engine, view["id"])
        assert done["status"] == "delivered"
        assert [a["outcome"] for a in done["attempts"]] == ["lost", "delivered"]
        # the stale worker wakes up and reports: its result is logged on its attempt, nothing else moves
        assert settle(engine, claim, Result("delivered", 200)) == "delivered"
        done_tasks = [r for r in trail(engine, view["id"], "task")
                      if r["element_id"] == "Task_NotifyStakeholders" and r["to_state"] == "completed"]
        assert len(done_tasks) == 1 and len(receiver.effects) == 1


def test_a_topic_without_transport_is_skipped_and_says_why(build: Build) -> None:
    with frozen():
        engine = build()
        view = major_in_diagnosis(engine)
        assert outbox.deliver_due(engine) == 1
        skipped = only_delivery(engine, view["id"])
        assert skipped["status"] == "skipped" and "no url or email_to" in skipped["last_error"]


def test_an_email_topic_is_sent_through_smtp(build: Build) -> None:
    with smtp_server() as (port, messages), frozen():
        engine = build(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                       outbox_topics={"notify-stakeholders": Topic("notify-stakeholders", "wait",
                                                                   email_to=("ops@example.com",))})
        view = major_in_diagnosis(engine)
        assert outbox.deliver_due(engine) == 1
        [mail] = messages
        delivery = only_delivery(engine, view["id"])
        assert mail["To"] == "ops@example.com" and mail["Message-ID"] == f"<{delivery['id']}@incident-engine>"
        assert delivery["status"] == "delivered"
        assert is_open(incidents.get(engine, view["id"]), "Task_SendStakeholderUpdate")


def test_deliveries_are_listed_over_http(build: Build) -> None:
    from api import create_app
    from tests.conftest import admin_test_client

    with running(Receiver(secret=SECRET, statuses=[500])) as receiver, frozen():
        engine = build(receiver.url)
        client = admin_test_client(create_app(engine.settings, engine))
        view = major_in_diagnosis(engine)
        outbox.deliver_due(engine)
        response = client.get(f"/api/v1/incidents/{view['id']}/deliveries")
        assert response.status_code == 200
        [item] = response.get_json()["items"]
        assert item["status"] == "pending" and item["topic"] == "notify-stakeholders"
        assert item["last_error"] == "HTTP 500 Internal Server Error" and item["next_attempt_at"]
        assert item["attempts"][0]["outcome"] == "failed" and item["attempts"][0]["http_status"] == 500
        missing = client.get("/api/v1/incidents/00000000-0000-0000-0000-000000000000/deliveries")
        assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
