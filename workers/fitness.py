"""The Celery task that runs a fitness test: a thin shell around engine.services.fitness.run.

Wiring (once workers/celery_app.py exists): `run_fitness_test = register(celery_app)` in the worker, and
`app.extensions["fitness_dispatch"] = dispatcher(run_fitness_test)` in api.create_app, so POST
.../fitness-tests queues the run instead of running it in a thread of the web process.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ENGINE: Any = None
TIME_LIMIT_S = 3600 + 900  # the longest allowed run plus server start-up, drain and collection


def _engine() -> Any:
    global _ENGINE
    if _ENGINE is None:
        from engine.config import Settings
        from engine.services.engine_app import IncidentEngine

        _ENGINE = IncidentEngine(Settings.from_env())
    return _ENGINE


def run(test_id: str) -> str:
    """Run one queued fitness test to the end; returns its final status (a test no longer queued is left alone)."""
    from engine.services.fitness import run as run_test

    return str(run_test(_engine(), test_id)["status"])


def register(celery_app: Any) -> Any:
    """Register the task on the app; one run at a time per worker process, acknowledged when it is done."""
    return celery_app.task(name="fitness.run", acks_late=True, time_limit=TIME_LIMIT_S)(run)


def dispatcher(task: Any) -> Callable[[str], Any]:
    """What api.create_app stores as app.extensions["fitness_dispatch"]."""
    return lambda test_id: task.delay(test_id)
