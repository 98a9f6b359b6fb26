"""On SQLite a completion reads and runs its workflow before it takes the writer lock, and runs again under
the lock when its incident moved meanwhile; two processes on one file still complete each task once (issue 15)."""
from __future__ import annotations

import multiprocessing
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.db.sqlite_writers import writer_lock
from engine.errors import Conflict
from engine.runtime.runner import Runner
from engine.services import audit_chain, incidents, tasks
from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings
from tests.support.incidents import open_task, trail
from tests.support.procedures import deploy_bundled

FORMS: dict[str, dict[str, Any]] = {
    "Task_LogIncident": {"summary": "Telephony down", "caller_id": "C-1001", "identity_verified": True,
                         "affected_service": "telephony", "customer_impact": "high"},
    "Task_Triage": {"priority": "P2", "priority_reason": "all inbound queues affected"},
    "Task_Diagnose": {"root_cause": "certificate expired", "workaround_available": False},
    "Task_SendStakeholderUpdate": {"update_sent": True},
}
START = {"priority": "P2", "summary": "Telephony down", "caller_id": "C-1001"}


@pytest.fixture
def lite(tmp_path: Path, sqlite_template: Path) -> Iterator[IncidentEngine]:
    path = tmp_path / "engine.sqlite3"
    shutil.copy(sqlite_template, path)
    eng = IncidentEngine(make_settings(f"sqlite:///{path}"))
    deploy_bundled(eng)
    yield eng
    eng.db.dispose()


def _complete(engine: IncidentEngine, view: dict[str, Any], element: str) -> dict[str, Any]:
    return tasks.complete(engine, open_task(view, element)["id"], FORMS[element], actor="tester")


def _completions(engine: IncidentEngine, incident_id: str) -> list[dict[str, Any]]:
    return [r for r in trail(engine, incident_id, "task") if r["to_state"] == "completed"]


def _in_parallel_branches(engine: IncidentEngine) -> dict[str, Any]:
    view, _ = incidents.start(engine, procedure="major_incident", data=START)
    view = _complete(engine, view, "Task_LogIncident")
    return _complete(engine, view, "Task_Triage")  # Diagnose and Send stakeholder update are open now


def _free_elsewhere(lock: Any) -> bool:
    result: list[bool] = []

    def probe() -> None:
        got = lock.acquire(blocking=False)
        if got:
            lock.release()
        result.append(got)

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join()
    return result[0]


class _Paused:
    """Runner.complete of one task waits, on its first run only, until released (the other side acts then)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, task_id: str) -> None:
        self.reached, self.go, self.runs = threading.Event(), threading.Event(), 0
        self.lock_free_while_computing: list[bool] = []
        original = Runner.complete

        def complete(runner: Runner, state: Any, done_id: str, values: dict[str, Any]) -> Any:
            if done_id == task_id:
                self.runs += 1
                if self.runs == 1:
                    self.reached.set()
                    assert self.go.wait(10)
            return original(runner, state, done_id, values)

        monkeypatch.setattr(Runner, "complete", complete)


def test_a_completion_runs_its_workflow_without_holding_the_writer_lock(
        lite: IncidentEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = writer_lock(lite.db)
    assert lock is not None and lock.path is not None and lock.path.endswith("engine.sqlite3-writer.lock")
    view, _ = incidents.start(lite, procedure="major_incident", data=START)
    seen: list[bool] = []
    original = Runner.complete

    def complete(runner: Runner, *args: Any) -> Any:
        seen.append(_free_elsewhere(lock))  # another thread (or process) could write now
        return original(runner, *args)

    monkeypatch.setattr(Runner, "complete", complete)
    after = _complete(lite, view, "Task_LogIncident")
    assert seen == [True]
    assert open_task(after, "Task_Triage")
    assert _free_elsewhere(lock)
    assert [r["task_id"] for r in _completions(lite, view["id"])].count(open_task(view, "Task_LogIncident")["id"]) == 1


def test_a_completion_whose_incident_moved_meanwhile_runs_again_and_both_count(
        lite: IncidentEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    view = _in_parallel_branches(lite)
    diagnose = open_task(view, "Task_Diagnose")["id"]
    paused = _Paused(monkeypatch, diagnose)
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.append(
        tasks.complete(lite, diagnose, FORMS["Task_Diagnose"], actor="diagnoser")))
    worker.start()
    assert paused.reached.wait(10)
    # Meanwhile the other branch's task of the same incident is completed and committed.
    _complete(lite, view, "Task_SendStakeholderUpdate")
    paused.go.set()
    worker.join(10)
    assert paused.runs == 2  # read too early: run again, under the lock
    assert answers and answers[0]["status"] == "running"
    completed = {r["task_id"] for r in _completions(lite, view["id"])}
    assert diagnose in completed and open_task(view, "Task_SendStakeholderUpdate")["id"] in completed
    assert len([r for r in _completions(lite, view["id"]) if r["task_id"] == diagnose]) == 1
    assert audit_chain.verify_incident(lite, view["id"])["valid"]


def test_two_completions_of_one_task_exactly_one_wins(lite: IncidentEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    view = _in_parallel_branches(lite)
    diagnose = open_task(view, "Task_Diagnose")["id"]
    paused = _Paused(monkeypatch, diagnose)
    errors: list[BaseException] = []

    def first() -> None:
        try:
            tasks.complete(lite, diagnose, FORMS["Task_Diagnose"], actor="first")
        except Conflict as err:
            errors.append(err)

    worker = threading.Thread(target=first)
    worker.start()
    assert paused.reached.wait(10)
    tasks.complete(lite, diagnose, FORMS["Task_Diagnose"], actor="second")
    paused.go.set()
    worker.join(10)
    assert len(errors) == 1 and "completed" in str(errors[0])
    rows = [r for r in _completions(lite, view["id"]) if r["task_id"] == diagnose]
    assert [r["actor"] for r in rows] == ["second"]
    assert audit_chain.verify_incident(lite, view["id"])["valid"]


def _race(url: str, task_ids: list[str], barrier: Any, out: Any) -> None:
    """One process of the race: complete every task, each right after the other process is ready too."""
    from engine.services.engine_app import IncidentEngine as Engine
    from tests.conftest import make_settings as settings

    engine = Engine(settings(url))
    answers = {}
    for task_id in task_ids:
        barrier.wait(30)
        try:
            tasks.complete(engine, task_id, FORMS["Task_LogIncident"], actor="racer")
            answers[task_id] = 200
        except Conflict:
            answers[task_id] = 409
    engine.db.dispose()
    out.put(answers)


def test_two_processes_on_one_sqlite_file_complete_each_task_once(lite: IncidentEngine) -> None:
    views = [incidents.start(lite, procedure="major_incident", data=START)[0] for _ in range(12)]
    task_ids = [open_task(v, "Task_LogIncident")["id"] for v in views]
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    racers = [ctx.Process(target=_race, args=(lite.settings.database_url, task_ids, barrier, out)) for _ in range(2)]
    for racer in racers:
        racer.start()
    answers = [out.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(30)
        assert racer.exitcode == 0
    for task_id, view in zip(task_ids, views, strict=True):
        assert sorted(a[task_id] for a in answers) == [200, 409]  # exactly one 200 per race
        assert len([r for r in _completions(lite, view["id"]) if r["task_id"] == task_id]) == 1
        assert audit_chain.verify_incident(lite, view["id"])["valid"]
