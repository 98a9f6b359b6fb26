"""Fitness tests on Celery: their own queue, time limits from the run's duration, a worker of one, and
create_app wiring the dispatch whenever Celery is the scheduler (issue 10, part 2)."""
from __future__ import annotations

from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

import workers.fitness as shim
from api.cli import build_parser
from engine.config import Settings
from workers.celery_app import create_celery


def test_the_task_has_its_own_queue_and_a_time_limit() -> None:
    app = create_celery(Settings(celery_broker_url="memory://", fitness_queue="fit-q"))
    task = app.tasks[shim.TASK]
    assert app.conf.task_routes[shim.TASK] == {"queue": "fit-q"}
    assert task.time_limit == shim.limits(shim.LONGEST_RUN_S)[1] and task.soft_time_limit < task.time_limit
    assert task.acks_late is True


def test_limits_follow_the_duration() -> None:
    soft, hard = shim.limits(60)
    assert 60 < soft < hard <= 60 + 600
    assert shim.limits(3600)[0] > 3600


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, dict[str, Any]]] = []

    def send_task(self, name: str, args: Any, **options: Any) -> None:
        self.sent.append((name, args, options))


def test_the_dispatcher_sends_the_run_to_the_fitness_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    producer = FakeProducer()
    monkeypatch.setattr("workers.celery_app.create_celery", lambda settings: producer)
    monkeypatch.setattr(shim.fitness, "get_by_id", lambda engine, test_id: {"id": test_id, "duration_s": 30})
    shim.dispatcher(Settings(fitness_queue="fit-q"), engine=None)("t-1")  # type: ignore[arg-type]
    soft, hard = shim.limits(30)
    assert producer.sent == [(shim.TASK, ("t-1",), {"queue": "fit-q", "soft_time_limit": soft, "time_limit": hard})]


def test_create_app_sets_the_dispatch_only_when_celery_schedules(tmp_path: Path) -> None:
    from api import create_app

    base = {"database_url": f"sqlite:///{tmp_path / 'e.sqlite3'}", "deploy_bundled": False,
            "jwt_secret": "x" * 40, "instance_dir": tmp_path}
    assert "fitness_dispatch" not in create_app(Settings(**base)).extensions  # type: ignore[arg-type]
    celery = create_app(Settings(**base, scheduler="celery", celery_broker_url="memory://"))  # type: ignore[arg-type]
    assert callable(celery.extensions["fitness_dispatch"])


def test_worker_fitness_serves_the_fitness_queue_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    class App:
        def worker_main(self, argv: list[str]) -> None:
            seen.append(argv)

    monkeypatch.setenv("FITNESS_QUEUE", "fit-q")
    monkeypatch.setattr("workers.celery_app.create_celery", lambda settings: App())
    args: Namespace = build_parser().parse_args(["worker", "--fitness", "--concurrency", "4"])
    assert args.func(args) == 0
    assert "--queues=fit-q" in seen[0] and "--concurrency=1" in seen[0] and "--concurrency=4" not in seen[0]
    assert "--prefetch-multiplier=1" in seen[0]
    plain = build_parser().parse_args(["worker"])
    plain.func(plain)
    assert "--queues=fit-q" not in " ".join(seen[1])
