"""The engine side of a completion, A/B: this checkout against another one (e.g. main), interleaved in one run.

Each round runs one child process per tree (PYTHONPATH=<tree>, the same interpreter): a fresh PostgreSQL
database, the bundled procedures deployed, --warmup major incidents, then --incidents measured ones driven
through the services as an admin agent (each completion claims its task; no HTTP, no Flask). A child prints
per completion: Python CPU of the calling thread, PostgreSQL backend CPU (its database's backends, from
/proc), wall p50, and, from one more incident traced before the measured ones, statements and round trips
on the wire (libpq trace: this checkout's engine.db.wire, for both trees).
Rounds alternate A, B, B, A, ... so the machine's drift hits both; the table gives medians of the rounds.

Usage: .venv/bin/python benchmarks/engine_ab.py --other ../main-copy [--rounds 4] [--incidents 30]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = r'''
import json, os, sys, time, uuid
import psycopg
from engine.config import Settings
from engine.db.migrate import upgrade
from engine.identity.principal import Principal
from engine.services import incidents, tasks
from engine.services.engine_app import IncidentEngine
from engine.services.procedures import deploy_directory
sys.path.insert(0, os.environ["AB_BENCH"])
import _inprocess as ip

admin_url, warmup, measured = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
name = f"ie_ab_{os.getpid()}_{uuid.uuid4().hex[:6]}"
with psycopg.connect(admin_url, autocommit=True) as c:
    c.execute(f'CREATE DATABASE "{name}"')
url = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
try:
    upgrade(url)
    settings = Settings.from_env(database_url=url)
    engine = IncidentEngine(settings)
    deploy_directory(engine, settings.bundled_dir)
    import importlib.util  # this checkout's wire counter, for both trees (it needs only SQLAlchemy + psycopg)
    spec = importlib.util.spec_from_file_location("ab_wire", os.environ["AB_WIRE"])
    wire = importlib.util.module_from_spec(spec)
    sys.modules["ab_wire"] = wire
    spec.loader.exec_module(wire)
    agent = Principal.of("agent-1", ["admin"])

    def backend_cpu():
        with psycopg.connect(admin_url, autocommit=True) as c:
            pids = [r[0] for r in c.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]
        total = 0
        for pid in pids:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def run(count, measure):
        cpu, walls, stmts, trips = 0.0, [], 0, 0
        for _ in range(count):
            view, _ = incidents.start(engine, procedure=ip.PROCEDURE, data=dict(ip.START_DATA), test=True)
            while view["status"] == "running" and view["open_tasks"]:
                task = view["open_tasks"][0]
                form = ip.form_for(task["element_id"])
                counted = wire.counting(engine.db) if (wire and measure) else None
                c0, t0 = time.thread_time(), time.perf_counter()
                if counted is not None:
                    with counted as seen:
                        view = tasks.complete(engine, task["id"], dict(form), principal=agent)
                else:
                    view = tasks.complete(engine, task["id"], dict(form), principal=agent)
                if measure:
                    cpu += time.thread_time() - c0
                    walls.append(time.perf_counter() - t0)
                    if counted is not None:
                        stmts += seen.statements
                        trips += seen.round_trips
            assert view["status"] == "completed", view["status"]
        return cpu, walls, stmts, trips

    run(warmup, False)
    _, counted_walls, stmts, trips = run(1, True)  # one incident on the wire (the trace itself costs CPU)
    wire = None
    pg0 = backend_cpu()
    cpu, walls, _, _ = run(measured, True)
    pg = backend_cpu() - pg0
    n, counted = len(walls), len(counted_walls)
    walls.sort()
    print(json.dumps({"n": n, "cpu_ms": 1000 * cpu / n, "pg_ms": 1000 * pg / n, "p50_ms": 1000 * walls[n // 2],
                      "statements": stmts / counted, "round_trips": trips / counted}))
    engine.db.dispose()
finally:
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
'''


def _child(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "AB_BENCH": str(HERE), "LOG_LEVEL": "WARNING",
           "AB_WIRE": str(HERE.parent / "engine" / "db" / "wire.py")}
    out = subprocess.run([sys.executable, "-c", CHILD, args.pg_admin_url, str(args.warmup), str(args.incidents)],
                         cwd=tree, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other checkout (B)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--incidents", type=int, default=30)
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres").replace("+psycopg", ""))
    args = parser.parse_args(argv)
    trees = {"this": HERE.parent, "other": args.other.resolve()}
    results: dict[str, list[dict[str, float]]] = {"this": [], "other": []}
    for r in range(args.rounds):
        order = ("this", "other") if r % 2 == 0 else ("other", "this")
        for label in order:
            results[label].append(_child(trees[label], args))
            print(f"round {r + 1} {label:5}: {results[label][-1]}", flush=True)
    print(f"\nmedians of {args.rounds} rounds, {args.incidents} incidents x 6 completions each "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"  {'':28} {'this (' + str(trees['this'].name) + ')':>22} {'other (' + str(trees['other'].name) + ')':>22}")
    for key, label in (("cpu_ms", "Python CPU ms / completion"), ("pg_ms", "PostgreSQL CPU ms / completion"),
                       ("p50_ms", "wall p50 ms (1 client)"), ("statements", "statements / completion"),
                       ("round_trips", "round trips / completion")):
        cells = []
        for name in ("this", "other"):
            values = [x[key] for x in results[name] if x.get(key) is not None]
            cells.append(f"{statistics.median(values):22.2f}" if values else f"{'n/a':>22}")
        print(f"  {label:28} {cells[0]} {cells[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
