"""Worker and outbox settings: topic configuration, the Celery app's delivery guarantees, backoff, signatures."""
from __future__ import annotations

import hashlib
import hmac
import json
from argparse import Namespace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from api.cli import gunicorn_options
from engine.config import Settings, Topic, parse_topics
from engine.services.delivery import signature
from engine.services.outbox_settle import backoff
from workers.celery_app import create_celery


def test_outbox_topics_are_read_from_json() -> None:
    topics = parse_topics(json.dumps({
        "notify-stakeholders": {"url": "https://hooks.example/notify", "mode": "wait", "secret": "x"},
        "crm-update": {"url": "https://crm.example/hook"},
        "dpo-mail": {"email_to": "dpo@example.com", "subject": "Breach"},
    }))
    assert topics["notify-stakeholders"] == Topic("notify-stakeholders", "wait", "https://hooks.example/notify",
                                                  secret="x")
    assert topics["crm-update"].mode == "fire_and_forget"
    assert topics["dpo-mail"].email_to == ("dpo@example.com",)
    assert Settings(outbox_topics=topics).topic("unknown") == Topic("unknown")  # fire-and-forget, no transport


@pytest.mark.parametrize("raw, message", [
    ("{", "not valid JSON"),
    ("[]", "JSON object"),
    ('{"t": {"url": "u", "mode": "later"}}', "mode must be one of"),
    ('{"t": {"url": "u", "retries": 3}}', "unknown keys: retries"),
    ('{"t": {"url": "u", "email_to": ["a@b"]}}', "one transport"),
    ('{"t": {"mode": "wait"}}', "waits for a delivery but has no url"),
])
def test_bad_outbox_topics_are_refused_at_startup(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_topics(raw)


def test_settings_from_env_choose_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CELERY_BROKER_URL", "SCHEDULER", "OUTBOX_TOPICS", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env().scheduler == "inprocess"  # the embedded default: no broker needed
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    settings = Settings.from_env()
    assert settings.scheduler == "celery" and settings.celery_broker_url == "redis://127.0.0.1:6379/0"
    monkeypatch.setenv("SCHEDULER", "off")
    assert Settings.from_env().scheduler == "off"
    monkeypatch.setenv("SCHEDULER", "cron")
    with pytest.raises(ValueError, match="SCHEDULER must be one of"):
        Settings.from_env()


def test_unsafe_delivery_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHEDULER", raising=False)
    monkeypatch.setenv("OUTBOX_TIMEOUT_SECONDS", "30")
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", "20")
    with pytest.raises(ValueError, match="OUTBOX_LEASE_SECONDS must be longer"):
        Settings.from_env()
    monkeypatch.delenv("OUTBOX_TIMEOUT_SECONDS")
    monkeypatch.delenv("OUTBOX_LEASE_SECONDS")
    monkeypatch.delenv("SMTP_HOST", raising=False)
    monkeypatch.setenv("OUTBOX_TOPICS", '{"dpo-mail": {"email_to": "dpo@example.com"}}')
    with pytest.raises(ValueError, match="SMTP_HOST is not set"):
        Settings.from_env()


def test_the_celery_app_acknowledges_late_retries_and_limits_every_task() -> None:
    app = create_celery(Settings(celery_broker_url="memory://", celery_queue="q", timer_tick_seconds=7,
                                 task_time_limit=90, task_max_retries=4, test_incident_purge_seconds=600,
                                 retention_job_seconds=1800))
    conf = app.conf
    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (True, True, 1)
    assert (conf.task_time_limit, conf.task_soft_time_limit) == (90, 80)
    assert conf.task_default_queue == "q" and conf.task_serializer == "json"
    schedule = conf.beat_schedule
    ticks = {e["task"]: e for e in schedule.values()}
    assert set(ticks) == {"workers.tick_timers", "workers.dispatch_outbox", "workers.tick_events",
                          "workers.dispatch_simulations", "workers.purge_test_incidents",
                          "workers.erase_expired_personal_data", "workers.sweep_stalls"}
    assert all(ticks[t]["schedule"] == 7 and ticks[t]["options"]["expires"] == 21 for t in ticks
               if t not in ("workers.purge_test_incidents", "workers.erase_expired_personal_data",
                            "workers.sweep_stalls"))
    assert ticks["workers.sweep_stalls"]["schedule"] == 600
    purge = ticks["workers.purge_test_incidents"]
    assert (purge["schedule"], purge["options"]["expires"]) == (600, 600)
    retention = ticks["workers.erase_expired_personal_data"]
    assert (retention["schedule"], retention["options"]["expires"]) == (1800, 1800)
    ours = {name: task for name, task in app.tasks.items() if name.startswith("workers.")}
    assert set(ours) == {"workers.tick_timers", "workers.dispatch_outbox", "workers.deliver_outbox",
                         "workers.tick_events", "workers.dispatch_simulations", "workers.run_simulation",
                         "workers.purge_test_incidents", "workers.run_fitness_test",
                         "workers.erase_expired_personal_data", "workers.sweep_stalls"}
    for task in ours.values():
        assert task.acks_late and task.reject_on_worker_lost
        assert task.retry_backoff and task.retry_jitter and task.retry_backoff_max == 60
        assert OperationalError in task.autoretry_for
        assert task.max_retries == 4


def test_a_database_outage_is_retried_then_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_celery(Settings(celery_broker_url="memory://", task_max_retries=2))
    calls: list[int] = []

    def down(*_args: Any, **_kwargs: Any) -> int:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("workers.tasks.fire_due_timers", down)
    monkeypatch.setattr("workers.tasks.engine_for", lambda app: None)
    result = app.tasks["workers.tick_timers"].apply()
    assert result.failed() and isinstance(result.result, OperationalError)
    assert len(calls) == 3  # the first run and two retries


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    settings = Settings(outbox_backoff_seconds=4.0, outbox_backoff_max_seconds=60.0)
    for attempt, ceiling in [(1, 4), (2, 8), (3, 16), (5, 60), (12, 60)]:
        delays = {backoff(settings, attempt) for _ in range(50)}
        assert all(timedelta(seconds=ceiling / 2) <= d <= timedelta(seconds=ceiling) for d in delays)
        assert len(delays) > 1  # jittered


def test_the_signature_is_an_hmac_of_the_body() -> None:
    body = b'{"id":"1"}'
    assert signature("k", body) == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_serve_runs_the_in_process_scheduler_only_without_a_broker() -> None:
    args = Namespace(host="127.0.0.1", port=8000, workers=0, threads=4)
    embedded = gunicorn_options(Settings(scheduler="inprocess"), args)
    assert callable(embedded["post_worker_init"]) and callable(embedded["worker_exit"])
    assert embedded["workers"] == 1  # SQLite default
    brokered = gunicorn_options(Settings(database_url="postgresql+psycopg://x/y", scheduler="celery"), args)
    assert "post_worker_init" not in brokered and brokered["workers"] == 2


def test_serve_layout_is_a_setting_with_the_measured_default_and_the_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    none = Namespace(host="127.0.0.1", port=8000, workers=0, threads=0)
    pg = "postgresql+psycopg://x/y"
    assert Settings(database_url=pg).serve_layout() == (2, 4)
    assert Settings().serve_layout() == (1, 8)  # SQLite: one process
    options = gunicorn_options(Settings(database_url=pg), none)
    assert (options["workers"], options["threads"]) == (2, 4)
    assert options["keepalive"] == 75  # not gunicorn's 2 s
    monkeypatch.setenv("DATABASE_URL", pg)
    monkeypatch.setenv("SERVE_WORKERS", "3")
    monkeypatch.setenv("SERVE_THREADS", "2")
    settings = Settings.from_env()
    assert (gunicorn_options(settings, none)["workers"], gunicorn_options(settings, none)["threads"]) == (3, 2)
    flags = gunicorn_options(settings, Namespace(host="127.0.0.1", port=8000, workers=1, threads=6))
    assert (flags["workers"], flags["threads"]) == (1, 6)
    monkeypatch.setenv("SERVE_THREADS", "-1")
    with pytest.raises(ValueError, match="SERVE_THREADS"):
        Settings.from_env()
