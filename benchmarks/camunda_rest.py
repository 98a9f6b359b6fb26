"""Camunda dialect figures, from one run against a served engine on PostgreSQL (localhost only, bounded):

1. deploy: a generated 100-element BPMN uploaded (multipart `deployment/create` when served, else the
   /api/v1 upload that the same deploy service answers), N times, each a new version: median and worst;
2. idle long polls: the server processes' CPU seconds over a quiet window, first with no client, then with
   W workers each parked in fetchAndLock (asyncResponseTimeout 20 s), side by side;
3. wake-up latency: with those W workers waiting, a started incident's external task reaches one of them:
   time from the start request's answer to the worker's answer (median and worst of R starts).

    python benchmarks/camunda_rest.py [--workers 50] [--window 10] [--starts 10] [--deploys 5]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
SECRET = "benchmark-secret-for-the-camunda-dialect-0123456789"


def bpmn_with(elements: int, key: str) -> bytes:
    """start, elements-2 user tasks in a row, end: `elements` flow nodes (and elements-1 flows)."""
    tasks = elements - 2
    nodes = ['<bpmn:startEvent id="S"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>']
    flows = []
    previous = "S"
    for n in range(tasks):
        nodes.append(f'<bpmn:userTask id="T{n}" name="Step {n}" camunda:candidateGroups="desk">'
                     f'<bpmn:incoming>F{n}</bpmn:incoming><bpmn:outgoing>F{n + 1}</bpmn:outgoing></bpmn:userTask>')
        flows.append(f'<bpmn:sequenceFlow id="F{n}" sourceRef="{previous}" targetRef="T{n}" />')
        previous = f"T{n}"
    nodes.append(f'<bpmn:endEvent id="E"><bpmn:incoming>F{tasks}</bpmn:incoming></bpmn:endEvent>')
    flows.append(f'<bpmn:sequenceFlow id="F{tasks}" sourceRef="{previous}" targetRef="E" />')
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            f'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="http://bpmn.io/schema/bpmn">'
            f'<bpmn:process id="{key}" isExecutable="true">{"".join(nodes)}{"".join(flows)}</bpmn:process>'
            f'</bpmn:definitions>').encode()


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(master: int) -> list[int]:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master, *map(int, children)]


def _go_live(url: str, key: str) -> None:
    """Only an active version takes live incidents: take it through governance on the served database, the
    way the tests do (tests/support/procedures.py: recorded scenario and fitness evidence, approval)."""
    sys.path.insert(0, str(ROOT))
    from engine.services.engine_app import IncidentEngine
    from tests.conftest import make_settings
    from tests.support.procedures import activate

    engine = IncidentEngine(make_settings(url))
    try:
        activate(engine, key)
    finally:
        engine.db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--starts", type=int, default=10)
    parser.add_argument("--deploys", type=int, default=5)
    args = parser.parse_args()

    name = f"ie_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    tmp = Path(tempfile.mkdtemp(prefix="ie-bench-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "INCIDENT_ENGINE_INSTANCE": str(tmp), "JWT_SECRET": SECRET,
           "LOG_LEVEL": "WARNING", "SCHEDULER": "off", "LONG_POLL_MAX_WAITERS": str(args.workers + 8)}
    cli = [str(Path(sys.executable).parent / "incident-engine")]
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2", "--threads", "4"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    rest = f"{base}/engine-rest"

    def token(*roles: str, group: str | None = None) -> dict[str, str]:
        extra = ["--group", group] if group else []
        done = subprocess.run([*cli, "token", "--user", "bench", *[x for r in roles for x in ("--role", r)], *extra],
                              env=env, capture_output=True, text=True, check=True)
        return {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}

    stop = threading.Event()
    try:
        for _ in range(600):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        admin_h, worker_h = token("admin"), token("integration", group="charge-card")
        charge = (ROOT / "tests" / "fixtures" / "bpmn" / "external_charge.bpmn").read_bytes()
        assert requests.post(f"{base}/api/v1/procedures", data=charge, headers={
            **admin_h, "Content-Type": "application/xml"}, timeout=30).status_code == 201
        _go_live(url, "external_charge")

        # 1. deploys of a 100-element model
        probe = requests.post(f"{rest}/deployment/create", headers=admin_h, timeout=30)
        multipart = probe.status_code != 404
        seconds = []
        for n in range(args.deploys):
            data = bpmn_with(100, "hundred") + f"<!-- {n} -->".encode()
            started = time.perf_counter()
            if multipart:
                response = requests.post(f"{rest}/deployment/create", headers=admin_h, timeout=30,
                                         data={"deployment-name": "hundred", "deployment-source": "Camunda Modeler",
                                               "enable-duplicate-filtering": "true"},
                                         files={"hundred.bpmn": ("hundred.bpmn", data, "text/xml")})
            else:
                response = requests.post(f"{base}/api/v1/procedures", data=data, timeout=30,
                                         headers={**admin_h, "Content-Type": "application/xml"})
            seconds.append(time.perf_counter() - started)
            assert response.status_code in (200, 201), response.text
        print(f"deploy of a 100-element BPMN via {'deployment/create' if multipart else '/api/v1/procedures'}: "
              f"median {statistics.median(seconds) * 1000:.0f} ms, worst {max(seconds) * 1000:.0f} ms "
              f"({args.deploys} deploys)")

        # 2. idle CPU, without and then with parked long polls
        pids = server_pids(server.pid)
        time.sleep(2)
        before = cpu_seconds(pids)
        time.sleep(args.window)
        idle = cpu_seconds(pids) - before
        fetch = {"workerId": "w", "maxTasks": 1, "asyncResponseTimeout": 20000,
                 "topics": [{"topicName": "charge-card", "lockDuration": 60000}]}
        received: list[float] = []
        lock = threading.Lock()

        def work(number: int) -> None:
            session = requests.Session()
            while not stop.is_set():
                try:
                    answer = session.post(f"{rest}/external-task/fetchAndLock", json={**fetch, "workerId": f"w{number}"},
                                          headers=worker_h, timeout=30)
                except requests.RequestException:
                    continue
                if answer.status_code == 200 and answer.json():
                    with lock:
                        received.append(time.perf_counter())

        threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(args.workers)]
        for thread in threads:
            thread.start()
        time.sleep(3)  # every worker is parked by now
        before = cpu_seconds(pids)
        time.sleep(args.window)
        parked = cpu_seconds(pids) - before
        print(f"server CPU over {args.window:.0f} s: idle {idle:.3f} s, with {args.workers} parked long polls "
              f"{parked:.3f} s ({parked / args.window * 100:.2f} % of one core)")

        # 3. wake-up latency
        latencies = []
        for n in range(args.starts):
            seen = len(received)
            response = requests.post(f"{rest}/process-definition/key/external_charge/start", headers=admin_h,
                                     json={"businessKey": f"B-{n}", "variables": {"amount": {"value": 1.0}}}, timeout=30)
            answered = time.perf_counter()
            assert response.status_code == 200, response.text
            deadline = time.monotonic() + 10
            while len(received) == seen and time.monotonic() < deadline:
                time.sleep(0.005)
            latencies.append((received[seen] - answered) if len(received) > seen else float("inf"))
        print(f"task visible to a waiting worker after the start answered: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms ({args.starts} starts)")
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
