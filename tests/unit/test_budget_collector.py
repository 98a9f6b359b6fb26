"""The meter leaves full garbage collections out of a transition's CPU, and does not read the clock for young ones."""
from __future__ import annotations

import pytest

from engine.runtime import budget


def test_only_full_collections_are_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([10.0, 10.25, 20.0, 20.5])
    reads: list[float] = []

    def thread_time() -> float:
        reads.append(next(clock))
        return reads[-1]

    monkeypatch.setattr(budget.time, "thread_time", thread_time)
    monkeypatch.setattr(budget, "_collector", type(budget._collector)())
    for generation in (0, 1, 0):
        budget._on_collection("start", {"generation": generation})
        budget._on_collection("stop", {"generation": generation})
    assert reads == []  # young collections cost no clock read
    budget._on_collection("start", {"generation": 2})
    budget._on_collection("stop", {"generation": 2})
    assert budget._collector.spent == pytest.approx(0.25)
    assert budget._model_cpu() == pytest.approx(20.0 - 0.25)
