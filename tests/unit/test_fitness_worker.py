"""The Celery shim for fitness tests only registers and dispatches; the run itself is the engine's."""
from __future__ import annotations

from typing import Any

import workers.fitness as shim


class FakeCelery:
    def __init__(self) -> None:
        self.registered: dict[str, Any] = {}

    def task(self, **options: Any) -> Any:
        def decorate(function: Any) -> Any:
            self.registered[options["name"]] = options

            class Task:
                calls: list[str] = []

                @staticmethod
                def delay(test_id: str) -> None:
                    Task.calls.append(test_id)

            return Task
        return decorate


def test_register_and_dispatch() -> None:
    app = FakeCelery()
    task = shim.register(app)
    assert app.registered["fitness.run"]["acks_late"] is True
    shim.dispatcher(task)("t-1")
    assert task.calls == ["t-1"]


def test_the_task_calls_the_engine_runner(monkeypatch: Any) -> None:
    monkeypatch.setattr(shim, "_ENGINE", object())
    monkeypatch.setattr("engine.services.fitness.run", lambda engine, test_id: {"status": f"passed:{test_id}"})
    assert shim.run("t-2") == "passed:t-2"
