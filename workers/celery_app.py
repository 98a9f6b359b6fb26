"""The Celery app: Redis (or RabbitMQ) broker, at-least-once task settings and the beat schedule of ticks.

`celery -A workers.celery_app worker` / `celery -A workers.celery_app beat` (or `incident-engine worker`
and `incident-engine beat`) run it. Tasks only trigger engine services; every timer and every delivery
is a database row, so nothing is lost when the broker is flushed or a worker dies.
"""
from __future__ import annotations

from celery import Celery

from engine.config import Settings

from . import fitness as _fitness  # noqa: F401 - the fitness-test task, likewise
from . import simulations as _simulations  # noqa: F401 - the simulation tasks, likewise
from . import tasks as _tasks  # noqa: F401 - registers the shared tasks with every app made here

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def create_celery(settings: Settings | None = None) -> Celery:
    """A Celery app configured from `settings` (default: the environment)."""
    settings = settings or Settings.from_env()
    tick = settings.timer_tick_seconds
    app = Celery("incident_engine", broker=settings.celery_broker_url or DEFAULT_BROKER,
                 include=["workers.tasks", "workers.simulations", "workers.fitness"])
    app.conf.update(
        task_default_queue=settings.celery_queue,
        # fitness tests (Locust runs of minutes) have a queue of their own: `incident-engine worker --fitness`
        task_routes={"workers.run_fitness_test": {"queue": settings.fitness_queue}},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # at least once: a task is acknowledged only when it finished, and redelivered if its worker died
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # every task has a hard time limit, and a soft one shortly before it
        task_time_limit=settings.task_time_limit,
        task_soft_time_limit=max(1, settings.task_time_limit - 10),
        task_annotations={"*": {"max_retries": settings.task_max_retries}},
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged task after this long (a worker that vanished)
        broker_transport_options={"visibility_timeout": 2 * settings.task_time_limit + 60},
        worker_cancel_long_running_tasks_on_connection_loss=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule_filename=str(settings.instance_dir / "celerybeat-schedule"),
        beat_schedule={
            "fire-due-timers": {"task": "workers.tick_timers", "schedule": tick, "options": {"expires": 3 * tick}},
            "dispatch-outbox": {"task": "workers.dispatch_outbox", "schedule": tick,
                                "options": {"expires": 3 * tick}},
            "tick-events": {"task": "workers.tick_events", "schedule": tick, "options": {"expires": 3 * tick}},
            "dispatch-simulations": {"task": "workers.dispatch_simulations", "schedule": tick,
                                     "options": {"expires": 3 * tick}},
            "purge-test-incidents": {"task": "workers.purge_test_incidents",
                                     "schedule": settings.test_incident_purge_seconds,
                                     "options": {"expires": settings.test_incident_purge_seconds}},
            "erase-expired-personal-data": {"task": "workers.erase_expired_personal_data",
                                            "schedule": settings.retention_job_seconds,
                                            "options": {"expires": settings.retention_job_seconds}},
            "sweep-stalls": {"task": "workers.sweep_stalls", "schedule": settings.stall_sweep_seconds,
                             "options": {"expires": settings.stall_sweep_seconds}},
        },
    )
    app.incident_settings = settings  # type: ignore[attr-defined]
    return app


app = create_celery()
