"""Kill -9 of API worker processes under 8 clients completing tasks on PostgreSQL, and two API servers racing
completions on one queue: afterwards nothing is lost or duplicated (issue 11's "keep the probe's good results
green"). Real `incident-engine serve` processes; a few seconds of load each.

After the kills every audited completion has its task row completed and vice versa, each exactly once, every
200 the clients saw is among them, no incident has two open tasks, every audit chain verifies, and every
incident's saved workflow state reloads with exactly the open tasks its rows show.
"""
from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psutil
import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import text

from engine.db import incident_rows
from engine.identity.tokens import issue_token
from engine.services import audit_chain
from engine.services.engine_app import IncidentEngine

from ..conftest import TEST_AUDIT_KEY, TEST_JWT_SECRET, TEST_WEB_SECRET, make_settings
from ..support.procedures import deploy_active
from .processes import celery_env, stop, wait_for
from .test_several_processes import _call, _healthy, _serve

pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "two_desks.bpmn"
CLIENTS = 8
LOAD_SECONDS = 8.0
KILL_EVERY = 1.5
USER_TASKS = "('Task_First', 'Task_Second')"


def _env(pg_url: str, tmp: Path) -> dict[str, str]:
    return celery_env(tmp, DATABASE_URL=pg_url, SCHEDULER="inprocess", JWT_SECRET=TEST_JWT_SECRET,
                      AUDIT_HMAC_KEY=TEST_AUDIT_KEY, WEB_SECRET_KEY=TEST_WEB_SECRET, BOOTSTRAP_BUNDLED="0")


@pytest.fixture
def deployed(pg_url: str) -> str:
    engine = IncidentEngine(make_settings(pg_url))
    deploy_active(engine, FIXTURE)
    engine.db.dispose()
    return pg_url


def _safe_call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """(status, body), or (0, None) when the connection broke (a killed worker): the outcome is unknown."""
    try:
        return _call(base, method, path, token, body)
    except (OSError, ValueError):
        return 0, None


def _worker_pids(server: Any) -> list[int]:
    """The gunicorn workers of one serve process (it is the gunicorn master): its children, except the
    helpers multiprocessing left (the prepare step's resource tracker)."""
    found = []
    try:
        for child in psutil.Process(server.pid).children():
            try:
                if not any("multiprocessing" in part for part in child.cmdline()):
                    found.append(child.pid)
            except psutil.NoSuchProcess:
                continue
    except psutil.NoSuchProcess:
        return []
    return found


class Seen:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completed: list[str] = []  # task ids a client got 200 for
        self.unknown = 0  # requests whose connection broke
        self.statuses: Counter[int] = Counter()


def _client(base: str, token: str, seen: Seen, deadline: float) -> None:
    incident: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        if incident is None or incident.get("status") != "running":
            status, incident = _safe_call(base, "POST", "/api/v1/incidents", token, {"procedure": "two_desks"})
            with seen.lock:
                seen.statuses[status] += 1
            if status != 201:
                incident = None
                time.sleep(0.05)
                continue
        assert incident is not None
        tasks = incident.get("open_tasks") or []
        if not tasks:
            incident = None
            continue
        task = tasks[0]
        status, _ = _safe_call(base, "POST", f"/api/v1/tasks/{task['id']}/claim", token)
        status, body = _safe_call(base, "POST", f"/api/v1/tasks/{task['id']}/complete", token, {"data": {}})
        with seen.lock:
            seen.statuses[status] += 1
            if status == 200:
                seen.completed.append(task["id"])
            elif status == 0:
                seen.unknown += 1
        if status == 200 and isinstance(body, dict) and "open_tasks" in body:
            incident = body
        else:  # read it again: the completion may or may not have happened
            status, again = _safe_call(base, "GET", f"/api/v1/incidents/{incident['id']}", token)
            incident = again if status == 200 else None


def _rows(pg_url: str, sql: str) -> list[Any]:
    from engine.db.database import make_engine

    db = make_engine(pg_url)
    try:
        with db.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        db.dispose()


def _consistent(pg_url: str, completed_200: list[str]) -> dict[str, int]:
    """Check the database after the load; the figures for the report."""
    audited = Counter(r[0] for r in _rows(pg_url, "SELECT task_id FROM audit WHERE kind = 'task' AND "
                                                  f"to_state = 'completed' AND element_id IN {USER_TASKS}"))
    assert set(audited.values()) <= {1}, [t for t, n in audited.items() if n > 1]  # no completion twice
    rows = dict(_rows(pg_url, "SELECT id, state FROM tasks"))
    assert {t for t, s in rows.items() if s == "completed"} == set(audited)  # rows and audit agree
    assert set(completed_200) <= set(audited)  # every 200 a client saw is there
    assert len(completed_200) == len(set(completed_200))  # and no task was answered 200 twice
    doubled = _rows(pg_url, "SELECT incident_id FROM tasks WHERE state = 'ready' GROUP BY incident_id "
                            "HAVING count(*) > 1")
    assert doubled == []  # a two-step sequence never has two open tasks
    engine = IncidentEngine(make_settings(pg_url))
    try:
        verdicts = list(audit_chain.verify_all(engine))
        assert verdicts and all(v["valid"] for v in verdicts), [v for v in verdicts if not v["valid"]]
        ids = [r[0] for r in _rows(pg_url, "SELECT id FROM incidents")]
        for incident_id in ids:
            with engine.uow() as uow:
                row = incident_rows.lock(uow.conn, incident_id)
                assert row is not None
                runtime = engine.runtime_by_id(uow.conn, row["procedure_id"])
                workflow = engine.runner(runtime).load(row["state"])
                ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
                open_rows = {r[0] for r in uow.conn.execute(
                    text("SELECT id FROM tasks WHERE incident_id = :i AND state = 'ready'"), {"i": incident_id})}
                assert ready == open_rows, (incident_id, row["status"], ready, open_rows)
                assert (row["status"] == "completed") == (not ready), (incident_id, row["status"])
    finally:
        engine.db.dispose()
    return {"incidents": len(ids), "completions": len(audited)}


def test_kill_minus_9_of_api_workers_under_8_clients_loses_and_duplicates_nothing(
        deployed: str, tmp_path: Path) -> None:
    env = _env(deployed, tmp_path)
    server, base = _serve(env, tmp_path, workers=3)
    try:
        wait_for(lambda: _healthy(base), timeout=90, what=f"{base}/healthz")
        settings = make_settings(deployed)
        tokens = [issue_token(settings, user=f"agent-{c}", roles=["agent"], groups=["desk"]) for c in range(CLIENTS)]
        seen = Seen()
        deadline = time.monotonic() + LOAD_SECONDS
        clients = [threading.Thread(target=_client, args=(base, tokens[c], seen, deadline)) for c in range(CLIENTS)]
        for client in clients:
            client.start()
        kills, rng = 0, random.Random(11)
        while time.monotonic() < deadline - 1:
            time.sleep(KILL_EVERY)
            workers = _worker_pids(server)
            if workers:
                try:
                    psutil.Process(rng.choice(workers)).kill()  # SIGKILL: no cleanup, mid-transaction
                    kills += 1
                except psutil.NoSuchProcess:
                    pass
        for client in clients:
            client.join(60)
        assert kills >= 3 and seen.completed, (kills, seen.statuses)
        assert not [s for s in seen.statuses if s >= 500], seen.statuses
        wait_for(lambda: _healthy(base), timeout=60, what="the server to serve again after the kills")
    finally:
        stop(server)
    figures = _consistent(deployed, seen.completed)
    print(f"\n{kills} kill -9 of API workers under {CLIENTS} clients: {figures['incidents']} incidents, "
          f"{figures['completions']} completions ({len(seen.completed)} answered 200, {seen.unknown} cut off), "
          f"statuses {dict(seen.statuses)}")


def test_two_api_servers_racing_completions_give_exactly_one_winner_per_task(
        deployed: str, tmp_path: Path) -> None:
    env = _env(deployed, tmp_path)
    servers = [_serve(env, tmp_path) for _ in range(2)]
    try:
        for _proc, base in servers:
            wait_for(lambda base=base: _healthy(base), timeout=90, what=f"{base}/healthz")
        bases = [base for _p, base in servers]
        settings = make_settings(deployed)
        agent = issue_token(settings, user="agent-race", roles=["agent"], groups=["desk"])
        racers = [issue_token(settings, user=f"agent-{i}", roles=["agent"], groups=["desk"]) for i in (0, 1)]
        results: dict[str, dict[str, list[int]]] = {"claim": {}, "complete": {}}
        for n in range(12):
            status, view = _call(bases[n % 2], "POST", "/api/v1/incidents", agent, {"procedure": "two_desks"})
            assert status == 201, view
            task = view["open_tasks"][0]["id"]
            for action in ("claim", "complete"):
                statuses = [0, 0]
                barrier = threading.Barrier(2)
                # claims race between two users; completions race between the claim's winner on both servers
                winner = results["claim"].get(task, [200, 409]).index(200) if action == "complete" else None

                def race(i: int, action: str = action, task: str = task, statuses: list[int] = statuses,
                         barrier: threading.Barrier = barrier, winner: int | None = winner) -> None:
                    token = racers[i] if winner is None else racers[winner]
                    barrier.wait(10)
                    body = None if action == "claim" else {"data": {}}
                    statuses[i] = _call(bases[i], "POST", f"/api/v1/tasks/{task}/{action}", token, body)[0]

                threads = [threading.Thread(target=race, args=(i,)) for i in (0, 1)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
                results[action][task] = list(statuses)
    finally:
        for proc, _base in servers:
            stop(proc)
    assert all(sorted(s) == [200, 409] for s in results["claim"].values()), results["claim"]
    assert all(sorted(s) == [200, 409] for s in results["complete"].values()), results["complete"]
    completions = Counter(r[0] for r in _rows(deployed, "SELECT task_id FROM audit WHERE kind = 'task' AND "
                                                         f"to_state = 'completed' AND element_id IN {USER_TASKS}"))
    assert completions == Counter(list(results["complete"]))  # exactly one audited completion per task
    _consistent(deployed, list(results["complete"]))
