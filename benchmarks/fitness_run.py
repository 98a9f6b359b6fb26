"""One fitness test of a bundled procedure on PostgreSQL, through the engine's own machinery, printed.

A throw-away "live" database on the local PostgreSQL server holds the bundled procedures as drafts; the
fitness test of the procedure (engine.services.fitness: an isolated database of its own, the real server
spawned on it, Locust at the requested rate, the report) runs in this process, exactly as a fitness
worker runs it. Only 127.0.0.1 is used; both databases are dropped at the end.

Usage (from the repository root; about 6 minutes with the defaults):
    .venv/bin/python benchmarks/fitness_run.py                     # major_incident, 10,000/h, 5 minutes
    .venv/bin/python benchmarks/fitness_run.py --incidents-per-hour 3600 --duration 60 --agents 10
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import create_database, drop_database  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from engine.config import Settings
    from engine.db.migrate import upgrade
    from engine.services import fitness, fitness_run
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy_directory

    if args.keep:  # the work directory (server log, Locust CSVs) stays for a post-mortem
        fitness_run.shutil = type("KeepShutil", (), {"rmtree": staticmethod(lambda *a, **k: print(
            f"kept the work directory {a[0]}", file=sys.stderr))})

    name, url = create_database(args.pg_admin_url)
    instance = Path(tempfile.mkdtemp(prefix="ie-fitness-"))
    os.environ.update({"DATABASE_URL": url, "INCIDENT_ENGINE_INSTANCE": str(instance), "SCHEDULER": "off",
                       "FITNESS_ADMIN_DATABASE_URL": args.pg_admin_url.replace("postgresql://", "postgresql+psycopg://")})
    engine = None
    try:
        upgrade(url)
        engine = IncidentEngine(Settings.from_env())
        versions = {row["key"]: row["version"] for row in deploy_directory(engine, ROOT / "bpmn", actor="bench")}
        queued = fitness.request(engine, args.procedure, versions[args.procedure],
                                 incidents_per_hour=args.incidents_per_hour, agents=args.agents,
                                 duration_s=args.duration, actor="bench")
        print(f"fitness test {queued['id']}: {args.procedure} v{versions[args.procedure]}, "
              f"{args.incidents_per_hour}/h, {args.agents} agents, {args.duration} s (load {os.getloadavg()})",
              file=sys.stderr)
        started = time.perf_counter()
        done = fitness.run(engine, queued["id"])
        done["wall_s"] = round(time.perf_counter() - started, 1)
        return done
    finally:
        if engine is not None:
            engine.db.dispose()
        drop_database(args.pg_admin_url, name)


def summary(done: dict[str, Any]) -> list[str]:
    rep = done.get("report") or {}
    lines = [f"status {done['status']}" + (f": {done.get('error')}" if done.get("error") else "")]
    for key in ("passed", "reasons", "incidents", "tasks", "aggregated", "failures", "server", "locust"):
        if key in rep:
            lines.append(f"{key}: {json.dumps(rep[key], default=str)}")
    lines.append(f"{'endpoint':40} {'requests':>9} {'fail':>5} {'p50':>7} {'p95':>7} {'p99':>7}")
    for e in rep.get("endpoints", []) or []:
        lines.append(f"{str(e['name'])[:40]:40} {e['requests']:9d} {e['failures']:5d} {e['p50_ms'] or 0:7.0f} "
                     f"{e['p95_ms'] or 0:7.0f} {e['p99_ms'] or 0:7.0f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procedure", default="major_incident")
    parser.add_argument("--incidents-per-hour", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--duration", type=int, default=300, help="seconds of Locust load")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres").replace("+psycopg", ""))
    parser.add_argument("--keep", action="store_true", help="keep the fitness work directory (server log)")
    parser.add_argument("--json", type=Path, default=RESULTS / "fitness.json")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    done = run(args)
    done["loadavg_before"], done["loadavg_after"] = load_before, os.getloadavg()
    for line in summary(done):
        print(line)
    print(f"wall {done['wall_s']} s; load average before {load_before}, after {done['loadavg_after']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({k: v for k, v in done.items() if not k.endswith("_csv")}, indent=2,
                                    default=str) + "\n")
    print(f"written: {args.json}")
    return 0 if done["status"] == "passed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
