"""Several processes on one SQLite file: timers fired by two schedulers at once fire once (issue 15)."""
from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import frozen, major_in_diagnosis, trail
from tests.support.procedures import deploy_active, deploy_bundled

_LATER = datetime(2026, 1, 5, 9, 31, tzinfo=UTC)  # frozen()'s start + 31 min: P1 diagnosis SLAs due
CHARGE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "external_charge.bpmn"


@pytest.fixture
def lite(tmp_path: Path, sqlite_template: Path) -> Iterator[IncidentEngine]:
    path = tmp_path / "engine.sqlite3"
    shutil.copy(sqlite_template, path)
    eng = IncidentEngine(make_settings(f"sqlite:///{path}"))
    deploy_active(eng, CHARGE)
    yield eng
    eng.db.dispose()


def _fire(url: str, barrier: Any, out: Any) -> None:
    from engine.services.engine_app import IncidentEngine as Engine
    from engine.services.timers import fire_due_timers
    from tests.conftest import make_settings as settings
    from tests.support.incidents import frozen

    engine = Engine(settings(url))
    barrier.wait(30)
    with frozen(_LATER):
        out.put(sum(fire_due_timers(engine, limit=100) for _ in range(3)))
    engine.db.dispose()


def test_two_processes_firing_the_same_due_timers_fire_each_once(lite: IncidentEngine) -> None:
    deploy_bundled(lite)
    with frozen():
        views = [major_in_diagnosis(lite, "P1") for _ in range(8)]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    schedulers = [ctx.Process(target=_fire, args=(lite.settings.database_url, barrier, out)) for _ in range(2)]
    for scheduler in schedulers:
        scheduler.start()
    fired = [out.get(timeout=120) for _ in schedulers]
    for scheduler in schedulers:
        scheduler.join(30)
        assert scheduler.exitcode == 0
    assert sum(fired) == len(views)
    for view in views:
        assert len(trail(lite, view["id"], "timer_fired")) == 1
        assert len(trail(lite, view["id"], "sla_breached")) == 1
