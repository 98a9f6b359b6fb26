"""Two `serve` processes, two Celery workers and one beat on one PostgreSQL, under concurrent starts, claim
races, completions, timer firings and outbox deliveries for a bounded time; then the database is checked:
every 200 answer has exactly one audit row, no task is both completed and open, every due timer fired exactly
once, every delivery was attempted exactly once per try."""
from __future__ import annotations

import json
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.identity.tokens import issue_token
from engine.services.engine_app import IncidentEngine

from ..conftest import TEST_AUDIT_KEY, TEST_JWT_SECRET, TEST_WEB_SECRET, make_settings
from ..support.procedures import deploy_active
from ..support.webhook import Receiver, running
from .processes import celery_env, start, stop, wait_for

pytestmark = pytest.mark.postgres

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "desk_load.bpmn"
LOAD_SECONDS = 8.0
CLIENTS = 4


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _serve(env: dict[str, str], tmp: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cli = Path(sys.executable).parent / "incident-engine"
    log = open(tmp / f"serve-{port}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(cli if cli.exists() else shutil.which("incident-engine")), "serve", "--host",
                             "127.0.0.1", "--port", str(port), "--workers", str(workers), "--threads", "4"],
                            env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    return proc, f"http://127.0.0.1:{port}"


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Outcomes:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completed: list[str] = []  # task ids answered 200 by complete
        self.claims: dict[str, list[int]] = {}  # task id -> the two racing claims' statuses
        self.left_open: list[str] = []
        self.other: Counter[str] = Counter()


def _desk(bases: list[str], tokens: list[str], admin: str, outcomes: Outcomes, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        status, view = _call(bases[n % 2], "POST", "/api/v1/incidents", admin, {"procedure": "desk_load", "data": {}})
        assert status == 201, view
        [task] = [t for t in view["open_tasks"] if t["element_id"] == "Task_Work"]
        statuses: list[int] = [0, 0]
        barrier = threading.Barrier(2)

        def claim(i: int, task_id: str = task["id"], statuses: list[int] = statuses,
                  barrier: threading.Barrier = barrier) -> None:
            barrier.wait(10)
            statuses[i] = _call(bases[i], "POST", f"/api/v1/tasks/{task_id}/claim", tokens[i])[0]

        racers = [threading.Thread(target=claim, args=(i,)) for i in (0, 1)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(30)
        with outcomes.lock:
            outcomes.claims[task["id"]] = list(statuses)
        if n % 3 == 0:  # left for its reminder timer to fire
            with outcomes.lock:
                outcomes.left_open.append(task["id"])
            continue
        time.sleep(rng.uniform(0, 1.5))  # some reminders fire first, others are cancelled by the completion
        winner = statuses.index(200) if 200 in statuses else 0
        loser_status, _ = _call(bases[winner], "POST", f"/api/v1/tasks/{task['id']}/complete",
                                tokens[1 - winner], {"data": {}})
        status, _ = _call(bases[1 - winner], "POST", f"/api/v1/tasks/{task['id']}/complete", tokens[winner],
                          {"data": {}})
        with outcomes.lock:
            outcomes.other[f"loser complete {loser_status}"] += 1
            if status == 200:
                outcomes.completed.append(task["id"])
            else:
                outcomes.other[f"complete {status}"] += 1


@pytest.fixture
def stack(pg_url: str, redis_url: str, queue: str, tmp_path: Path) -> Iterator[tuple[list[str], Receiver, str]]:
    with running(Receiver()) as receiver:
        topics = json.dumps({"desk-notify": {"mode": "fire_and_forget", "url": receiver.url}})
        engine = IncidentEngine(make_settings(pg_url, outbox_topics={}))
        deploy_active(engine, FIXTURE)
        engine.db.dispose()
        env = celery_env(tmp_path, DATABASE_URL=pg_url, CELERY_BROKER_URL=redis_url, CELERY_QUEUE=queue,
                         SCHEDULER="celery", OUTBOX_TOPICS=topics, JWT_SECRET=TEST_JWT_SECRET,
                         AUDIT_HMAC_KEY=TEST_AUDIT_KEY, WEB_SECRET_KEY=TEST_WEB_SECRET, BOOTSTRAP_BUNDLED="0",
                         OUTBOX_BACKOFF_SECONDS="0.2")
        procs = [start("worker", env, tmp_path), start("worker", env, tmp_path), start("beat", env, tmp_path)]
        servers = [_serve(env, tmp_path) for _ in range(2)]
        try:
            for _proc, base in servers:
                wait_for(lambda base=base: _healthy(base), timeout=90, what=f"{base}/healthz")
            yield [base for _p, base in servers], receiver, pg_url
        finally:
            for proc, _base in servers:
                stop(proc)
            for proc in procs:
                stop(proc)


def _rows(pg_url: str, sql: str) -> list[Any]:
    from engine.db.database import make_engine

    db = make_engine(pg_url)
    try:
        with db.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        db.dispose()


def test_two_servers_two_workers_and_a_beat_keep_every_guarantee(
        stack: tuple[list[str], Receiver, str]) -> None:
    bases, receiver, pg_url = stack
    settings = make_settings(pg_url)
    admin = issue_token(settings, user="ops-admin", roles=["admin"])
    outcomes = Outcomes()
    deadline = time.monotonic() + LOAD_SECONDS
    desks = [threading.Thread(target=_desk, args=(bases, [issue_token(settings, user=f"agent-{c}-a", roles=["agent"],
                                                                      groups=["desk"]),
                                                         issue_token(settings, user=f"agent-{c}-b", roles=["agent"],
                                                                     groups=["desk"])],
                                                  admin, outcomes, deadline, c))
             for c in range(CLIENTS)]
    for desk in desks:
        desk.start()
    for desk in desks:
        desk.join(120)
    assert outcomes.completed and outcomes.left_open, outcomes.other

    # every claim race had exactly one winner, the loser a 409; the loser could not complete either
    assert all(sorted(s) == [200, 409] for s in outcomes.claims.values()), outcomes.claims
    assert {k for k in outcomes.other if k.startswith("loser")} == {"loser complete 409"}, outcomes.other
    assert not [k for k in outcomes.other if not k.startswith("loser")], outcomes.other
    time.sleep(1.5)  # the last incidents' reminders come due
    # the workers and the beat settle what is due (bounded)
    wait_for(lambda: not _rows(pg_url, "SELECT 1 FROM timers WHERE status = 'pending' AND due_at < now()")
             and not _rows(pg_url, "SELECT 1 FROM outbox WHERE status IN ('pending', 'delivering')"),
             timeout=60, what="due timers fired and the outbox delivered")

    completions = Counter(r[0] for r in _rows(pg_url, "SELECT task_id FROM audit WHERE kind = 'task' AND "
                                                      "element_id = 'Task_Work' AND to_state = 'completed'"))
    assert completions == Counter(outcomes.completed)  # each 200 exactly once, and nothing else completed
    claimed = Counter(r[0] for r in _rows(pg_url, "SELECT task_id FROM audit WHERE kind = 'task_claimed'"))
    assert claimed == Counter(list(outcomes.claims))  # one audited claim per race
    both = _rows(pg_url, "SELECT t.id FROM tasks t JOIN audit a ON a.task_id = t.id AND a.kind = 'task' "
                         "AND a.to_state = 'completed' WHERE t.state = 'ready'")
    assert both == []
    states = dict(_rows(pg_url, "SELECT id, state FROM tasks WHERE element_id = 'Task_Work'"))
    assert {states[t] for t in outcomes.completed} == {"completed"}
    assert {states[t] for t in outcomes.left_open} == {"ready"}

    timers = _rows(pg_url, "SELECT task_id, status FROM timers")
    fired = Counter(r[0] for r in _rows(pg_url, "SELECT task_id FROM audit WHERE kind = 'timer_fired'"))
    assert {task_id for task_id, status in timers if status == "fired"} == set(fired)
    assert set(fired.values()) == {1}  # every fired timer fired exactly once
    reminders_of_open = _rows(pg_url, "SELECT count(*) FROM timers WHERE status = 'fired' AND attached_to = "
                                      "'Task_Work'")[0][0]
    assert reminders_of_open >= len(outcomes.left_open)  # every open task's reminder came due and fired

    deliveries = _rows(pg_url, "SELECT id, status, attempts FROM outbox WHERE topic = 'desk-notify'")
    assert len(deliveries) == len(outcomes.claims)  # one per incident
    sent = Counter(r.key for r in receiver.requests)
    assert {(status, attempts) for _id, status, attempts in deliveries} == {("delivered", 1)}
    assert sent == Counter({row_id: 1 for row_id, _s, _a in deliveries})  # attempted exactly once per try
    print(f"{len(outcomes.claims)} incidents, {len(outcomes.completed)} completed, {len(outcomes.left_open)} left "
          f"open, {sum(fired.values())} timers fired, {len(deliveries)} deliveries")
