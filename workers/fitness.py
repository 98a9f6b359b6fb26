"""Fitness tests on Celery: a dedicated queue, one run at a time per worker, each run time-limited.

POST .../fitness-tests stores a queued row and calls `app.extensions["fitness_dispatch"]`, which
api.create_app sets to `dispatcher(settings, engine)` whenever Celery is the scheduler (SCHEDULER=celery,
the default when CELERY_BROKER_URL is set): the run is sent to FITNESS_QUEUE and never runs in a web
process. `incident-engine worker --fitness` consumes that queue with one process and a prefetch of one. The task is a thin shell around engine.services.fitness.run (idempotent: a run that is no
longer queued is left alone, so a redelivered or retried message does nothing).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from celery import shared_task

from engine.config import Settings
from engine.services import fitness
from engine.services.engine_app import IncidentEngine

from .context import engine_for
from .tasks import EngineTask

TASK = "workers.run_fitness_test"
# Beyond the Locust run itself: an isolated database to create and migrate, a server to start (240 s at
# most, engine.fitness.server), the drain (60 s at most) and the report to collect. The soft limit ends the run as an error with
# its reason (the server and the isolated database are cleaned up); the hard one is the backstop.
MARGIN_S = 480
HARD_AFTER_SOFT_S = 60
LONGEST_RUN_S = 3600  # the request schema's maximum duration


def limits(duration_s: int) -> tuple[int, int]:
    """(soft, hard) time limits in seconds for a run of `duration_s`."""
    soft = int(duration_s) + MARGIN_S
    return soft, soft + HARD_AFTER_SOFT_S


_DEFAULT_SOFT, _DEFAULT_HARD = limits(LONGEST_RUN_S)


@shared_task(bind=True, base=EngineTask, name=TASK, time_limit=_DEFAULT_HARD, soft_time_limit=_DEFAULT_SOFT)
def run_fitness_test(self: EngineTask, test_id: str) -> str:
    """Run one queued fitness test to the end; its final status (a test no longer queued is left alone)."""
    return str(fitness.run(engine_for(self.app), test_id)["status"])


def dispatcher(settings: Settings, engine: IncidentEngine) -> Callable[[str], Any]:
    """What api.create_app stores as app.extensions["fitness_dispatch"]: send the run to FITNESS_QUEUE,
    with time limits from the test's own duration."""
    producer: list[Any] = []

    def dispatch(test_id: str) -> Any:
        if not producer:
            from .celery_app import create_celery

            producer.append(create_celery(settings))
        soft, hard = limits(fitness.get_by_id(engine, test_id)["duration_s"])
        return producer[0].send_task(TASK, (test_id,), queue=settings.fitness_queue, soft_time_limit=soft,
                                     time_limit=hard)

    return dispatch
