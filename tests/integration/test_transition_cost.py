"""The metered part of a normal transition of a bundled procedure costs a few ms of CPU, far below the budget.

Every transition of every bundled scenario (they take every sequence flow, timers and services included) is
metered as in production; one-time work (parsing, compiling, the holiday calendar) happens before the meter
starts. The assertion is on the CPU the meter measured (thread time, collector pauses left out), not on the
test's wall-clock time; the figures are printed.
"""
from __future__ import annotations

import statistics

import pytest

from engine.config import Settings
from engine.runtime.runner import Runner
from engine.services import procedures, scenario_tests
from engine.services.engine_app import IncidentEngine
from tests.conftest import BUNDLED


def test_the_default_budgets_are_well_under_a_second() -> None:
    budgets = Settings.from_env().budgets
    assert budgets.cpu_seconds <= 0.5 and budgets.wall_seconds <= 3.0


def test_normal_transitions_of_the_bundled_procedures_use_a_small_share_of_the_cpu_budget(
        sqlite_engine: IncidentEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[tuple[str, float, int]] = []
    end = Runner.end

    def metered_end(runner: Runner) -> None:
        if runner._meter is not None:
            measured.append((runner.procedure.key, runner._meter.cpu_used(), runner._meter.steps))
        end(runner)

    monkeypatch.setattr(Runner, "end", metered_end)
    rows = procedures.deploy_directory(sqlite_engine, BUNDLED)
    for row in rows:
        run = scenario_tests.run(sqlite_engine, row["key"], row["version"], actor="ci")
        assert all(s["passed"] for s in run["scenarios"]), row["key"]
    budget = sqlite_engine.settings.budgets.cpu_seconds
    cpu = sorted(seconds for _key, seconds, _steps in measured)
    assert len(cpu) >= 50 and {key for key, _s, _n in measured} == {r["key"] for r in rows}
    worst = max(measured, key=lambda m: m[1])
    print(f"\n{len(cpu)} transitions: CPU median {statistics.median(cpu) * 1000:.1f} ms, "
          f"p95 {cpu[int(len(cpu) * 0.95)] * 1000:.1f} ms, max {worst[1] * 1000:.1f} ms ({worst[0]}, "
          f"{worst[2]} steps); budget {budget * 1000:.0f} ms")
    assert statistics.median(cpu) < budget / 20
    assert worst[1] < budget / 5, worst  # the first business-day clock no longer loads the calendar in here
