"""Two workers completing tasks of one incident at the same moment, on PostgreSQL (row lock + row version)."""
from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.db.tables import audit, incidents
from engine.errors import Conflict
from engine.services import incidents as incident_service
from engine.services import tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.procedures import deploy_active

SIMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "simple_flow.bpmn"
ROUNDS = 15


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"])
def engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[IncidentEngine, IncidentEngine]]:
    """Two engines on one database, like two API processes; the procedure deployed once.

    PostgreSQL is the case that matters (row lock + row version); the embedded SQLite file (one gunicorn
    process with 8 threads by default) must hold the same guarantees through BEGIN IMMEDIATE."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        path = tmp_path / "race.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    first, second = IncidentEngine(make_settings(url)), IncidentEngine(make_settings(url))
    deploy_active(first, SIMPLE, actor="test")
    yield first, second
    first.db.dispose()
    second.db.dispose()


def _race(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls in threads released together by a barrier; each result is ('ok', value) or ('err', exc)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any] | None] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[index] = ("err", exc)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a completion hung (lock never released?)"
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


def _row_version(eng: IncidentEngine, incident_id: str) -> int:
    with eng.db.connect() as conn:
        return int(conn.execute(select(incidents.c.row_version).where(incidents.c.id == incident_id)).scalar_one())


def _audit_rows(eng: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    with eng.db.connect() as conn:
        query = select(audit).where(audit.c.incident_id == incident_id).order_by(audit.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]


def _open(view: dict[str, Any], element_id: str) -> dict[str, Any]:
    found = [t for t in view["open_tasks"] if t["element_id"] == element_id]
    assert found, [t["element_id"] for t in view["open_tasks"]]
    return found[0]


def test_two_workers_completing_the_same_task_one_wins_one_conflicts(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    for round_no in range(ROUNDS):
        incident, _ = incident_service.start(first, procedure="simple_flow", data={"caller": f"C-{round_no}"})
        task = _open(incident, "Task_Log")
        before = _row_version(first, incident["id"])

        results = _race(
            lambda t=task: tasks.complete(first, t["id"], {"summary": "from worker 1", "ok": True}, actor="w1"),
            lambda t=task: tasks.complete(second, t["id"], {"summary": "from worker 2", "ok": True}, actor="w2"),
        )
        outcomes = sorted(kind for kind, _ in results)
        assert outcomes == ["err", "ok"], f"round {round_no}: {results}"
        loser = next(value for kind, value in results if kind == "err")
        assert isinstance(loser, Conflict), f"round {round_no}: {type(loser).__name__}: {loser}"
        winner = next(value for kind, value in results if kind == "ok")
        assert {t["element_id"] for t in winner["open_tasks"]} == {"Task_A", "Task_B"}

        assert _row_version(first, incident["id"]) == before + 1, f"round {round_no}"
        completed = [r for r in _audit_rows(first, incident["id"])
                     if r["task_id"] == task["id"] and r["to_state"] == "completed"]
        assert len(completed) == 1, f"round {round_no}: {completed}"
        assert completed[0]["actor"] in ("w1", "w2")
        assert completed[0]["data"]["summary"] == f"from worker {completed[0]['actor'][1]}"
        stored = tasks.get(first, task["id"])
        assert stored["state"] == "completed" and stored["ended_by"] == completed[0]["actor"]
        # the incident shows the single winner's result
        view = incident_service.get(second, incident["id"])
        assert view["data"]["summary"] == completed[0]["data"]["summary"]
        assert {t["element_id"] for t in view["open_tasks"]} == {"Task_A", "Task_B"}


def test_two_workers_completing_both_parallel_branches_both_succeed(engines) -> None:  # type: ignore[no-untyped-def]
    first, second = engines
    for round_no in range(8):
        incident, _ = incident_service.start(first, procedure="simple_flow", data={})
        incident = tasks.complete(first, _open(incident, "Task_Log")["id"], {"summary": "s", "ok": True})
        task_a, task_b = _open(incident, "Task_A"), _open(incident, "Task_B")
        before = _row_version(first, incident["id"])

        results = _race(
            lambda t=task_a: tasks.complete(first, t["id"], {"note": "from A", "a_done": True}, actor="wa"),
            lambda t=task_b: tasks.complete(second, t["id"], {"b_done": True}, actor="wb"),
        )
        assert [kind for kind, _ in results] == ["ok", "ok"], f"round {round_no}: {results}"
        assert _row_version(first, incident["id"]) == before + 2, f"round {round_no}"

        view = incident_service.get(first, incident["id"])
        assert view["status"] == "running", view["error"]
        # no lost update: both completions reached the workflow, so the join fired and the script ran
        assert [t["element_id"] for t in view["open_tasks"]] == ["Task_Close"], f"round {round_no}"
        assert view["data"]["a_done"] is True and view["data"]["b_done"] is True
        rows = _audit_rows(first, incident["id"])
        for task in (task_a, task_b):
            assert len([r for r in rows if r["task_id"] == task["id"] and r["to_state"] == "completed"]) == 1
        assert len([r for r in rows if r["element_id"] == "Script_Label" and r["to_state"] == "completed"]) == 1

        final = tasks.complete(second, _open(view, "Task_Close")["id"], {})
        assert final["status"] == "completed"
