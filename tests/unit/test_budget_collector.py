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


def test_the_cpu_clock_is_read_only_once_the_budget_could_have_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    wall, cpu, reads = [100.0], [5.0], []

    def thread_time() -> float:
        reads.append(cpu[0])
        return cpu[0]

    monkeypatch.setattr(budget.time, "monotonic", lambda: wall[0])
    monkeypatch.setattr(budget.time, "thread_time", thread_time)
    monkeypatch.setattr(budget, "_collector", type(budget._collector)())
    meter = budget.Meter(budget.Budgets(wall_seconds=3.0, cpu_seconds=0.5))
    assert len(reads) == 1  # the start
    for _ in range(50):  # 0.4 s of wall time: CPU time cannot have grown by more, so no reading
        wall[0] += 0.008
        cpu[0] += 0.008
        meter.step()
    assert len(reads) == 1
    wall[0] += 0.11  # past the remaining 0.5 s of wall time: read now
    cpu[0] += 0.05  # only 0.45 s used: the next reading is due when 0.05 s more of wall time has passed
    meter.step()
    assert len(reads) == 2
    wall[0] += 0.04
    meter.step()
    assert len(reads) == 2
    wall[0] += 0.02
    cpu[0] += 0.06  # 0.51 s used
    with pytest.raises(budget.BudgetExceeded) as err:
        meter.step()
    assert err.value.budget == "cpu_time" and len(reads) == 3
