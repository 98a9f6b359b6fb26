"""Where the time of POST /api/v1/tasks/{id}/complete goes: cProfile of the real request path, in-process.

Flask test client (no gunicorn, no sockets) against a fresh PostgreSQL database (migrated, bundled procedures
deployed, dropped at the end). Drives --incidents whole major_incident incidents; profiles only the complete
calls (after --warmup incidents, so spec parsing and pool connects are out of the picture unless you ask
for --cold), then prints:
  * a breakdown into buckets (SQL round trips, workflow load/dump, engine steps, marshmallow dump, ...)
    measured by wrapping the functions on the path (wall time, inclusive, per completion);
  * the top functions by cumulative and by own time (cProfile).

Usage: .venv/bin/python benchmarks/profile_complete.py [--incidents 40] [--top 30] [--out FILE.prof]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import functools
import io
import os
import pstats
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _inprocess as ip  # noqa: E402


class Buckets:
    """Inclusive wall time of wrapped functions, outermost call only per bucket (no double counting)."""

    def __init__(self) -> None:
        self.total: collections.Counter[str] = collections.Counter()
        self.cpu: collections.Counter[str] = collections.Counter()
        self.calls: collections.Counter[str] = collections.Counter()
        self.depth: collections.Counter[str] = collections.Counter()

    def wrap(self, owner: Any, name: str, bucket: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.depth[bucket] += 1
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.depth[bucket] -= 1
                if self.depth[bucket] == 0:
                    self.total[bucket] += time.perf_counter() - t0
                    self.cpu[bucket] += time.thread_time() - c0
                    self.calls[bucket] += 1

        setattr(owner, name, timed)


def install_buckets(b: Buckets) -> None:
    from sqlalchemy.engine import Connection
    from sqlalchemy.pool import QueuePool

    import api.logs
    from engine.runtime import runner as runner_mod
    from engine.runtime import serializer, transitions
    from engine.services import advance, tasks

    b.wrap(Connection, "execute", "sql: Connection.execute (round trips)")
    b.wrap(QueuePool, "connect", "sql: pool checkout (+pre-ping)")
    b.wrap(Connection, "commit", "sql: commit")
    b.wrap(serializer, "loads", "workflow: serializer.loads")
    b.wrap(serializer, "dumps", "workflow: serializer.dumps")
    b.wrap(runner_mod.Runner, "complete", "runner: Runner.complete (incl. load/dump)")
    b.wrap(runner_mod.Runner, "finish_service", "runner: Runner.finish_service (incl. load/dump)")
    b.wrap(runner_mod, "diff_transitions", "runner: diff_transitions")
    b.wrap(transitions.Snapshot, "of", "runner: Snapshot.of")
    b.wrap(runner_mod._LoopGuard, "check", "runner: _LoopGuard.check")
    b.wrap(advance, "record_outcome", "service: record_outcome (task sync, outbox; audit rows queued)")
    b.wrap(advance, "save_incident", "service: save_incident (UPDATE incident + audit INSERT)")
    b.wrap(tasks, "advance", "service: advance (runner + recording)")
    b.wrap(tasks, "incident_view", "service: incident view (2 SELECTs)")
    b.wrap(tasks, "validate_submission", "service: validate_submission")
    b.wrap(tasks, "complete", "service: tasks.complete (whole use case)")
    # marshmallow: the response schema dump done by flask-smorest
    from marshmallow import Schema

    b.wrap(Schema, "dump", "http: marshmallow Schema.dump")
    b.wrap(api.logs.logging.Logger, "info", "http: access log (logging)")


_PACKAGES = ("SpiffWorkflow", "sqlalchemy", "psycopg", "marshmallow", "flask_smorest", "webargs", "flask",
             "werkzeug", "json", "logging", "uuid", "engine", "api", "copy", "benchmarks")


def _package(filename: str, func: str) -> str:
    """A coarse owner for a profiled function: the library or our package it belongs to."""
    if filename == "~":
        if "psycopg" in func:
            return "psycopg"
        return "builtins (C: " + ("json" if "json" in func else "dict/str/isinstance/...") + ")"
    parts = filename.replace("\\", "/").split("/")
    for name in reversed(parts[:-1]):
        if name in _PACKAGES:
            return name
        if name in ("site-packages", "lib"):
            break
    for name in parts:
        if name in _PACKAGES:
            return name
    return "stdlib/other: " + parts[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=40, help="profiled incidents (6 completions each)")
    parser.add_argument("--warmup", type=int, default=5, help="incidents run before profiling starts")
    parser.add_argument("--cold", action="store_true", help="profile from the first request (spec cache miss)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="also write the raw cProfile stats here")
    parser.add_argument("--mode", choices=("profile", "buckets", "plain"), default="profile",
                        help="profile: buckets + cProfile; buckets: wrapped-function timing only; "
                             "plain: latency only (no instrumentation)")
    parser.add_argument("--cpu", action="store_true",
                        help="cProfile with a CPU clock (time.thread_time): own time excludes waiting on PostgreSQL")
    parser.add_argument("--sql", action="store_true", help="list the SQL statements of one completion of each task")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres").replace("+psycopg", ""))
    args = parser.parse_args(argv)

    import psycopg

    from api import create_app
    from engine.config import Settings
    from engine.db import wire
    from engine.db.migrate import upgrade
    from engine.services.engine_app import IncidentEngine
    from engine.services.procedures import deploy_directory

    name = f"ie_prof_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    engine = None
    try:
        upgrade(url)
        settings = Settings.from_env(database_url=url)
        engine = IncidentEngine(settings)
        deploy_directory(engine, settings.bundled_dir)
        engine.specs = type(engine.specs)()  # as a fresh worker: the spec is parsed on first use
        app = create_app(settings, engine)
        client = app.test_client()
        from engine.identity.tokens import issue_token

        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(settings, user='bench', roles=['admin'])}"
        statements: dict[str, list[str]] = {}
        wires: dict[str, Any] = {}
        sql_log: list[list[str]] = []
        by_element: dict[str, list[float]] = collections.defaultdict(list)

        from sqlalchemy import event

        @event.listens_for(engine.db, "before_cursor_execute")
        def _log_sql(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
            if sql_log:
                n_rows = f" [executemany x{len(params)}]" if many else ""
                sql_log[-1].append(" ".join(statement.split())[:150] + n_rows)

        @event.listens_for(engine.db, "commit")
        def _log_commit(_conn: Any) -> None:
            if sql_log:
                sql_log[-1].append("COMMIT")
        buckets = Buckets()
        profiler = cProfile.Profile(time.thread_time) if args.cpu else cProfile.Profile()
        latencies: list[float] = []
        cpu_total = 0.0
        start_cpu: list[float] = []
        codes: collections.Counter[int] = collections.Counter()
        total = args.incidents + (0 if args.cold else args.warmup)
        for n in range(total):
            measuring = args.cold or n >= args.warmup
            if measuring and args.mode != "plain" and n == (0 if args.cold else args.warmup):
                install_buckets(buckets)
            s0 = time.thread_time()
            response = client.post("/api/v1/incidents",  # a test incident: the version is a draft here
                                   json={"procedure": ip.PROCEDURE, "data": ip.START_DATA, "test": True})
            if measuring:
                start_cpu.append(time.thread_time() - s0)
            assert response.status_code == 201, response.get_json()
            incident = response.get_json()
            while incident["status"] == "running" and incident["open_tasks"]:
                task = incident["open_tasks"][0]
                body = {"data": ip.form_for(task["element_id"])}
                capture = args.sql and measuring and task["element_id"] not in statements
                if capture:
                    statements[task["element_id"]] = []
                    sql_log.append(statements[task["element_id"]])
                t0, c0 = time.perf_counter(), time.thread_time()
                if measuring and args.mode == "profile":
                    profiler.enable()
                with wire.counting(engine.db) if capture else contextlib.nullcontext() as seen:
                    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
                if measuring and args.mode == "profile":
                    profiler.disable()
                if capture:
                    sql_log.clear()
                    wires[task["element_id"]] = seen
                if measuring:
                    cpu_total += time.thread_time() - c0
                    latencies.append(time.perf_counter() - t0)
                    by_element[task["element_id"]].append(time.perf_counter() - t0)
                codes[response.status_code] += 1
                assert response.status_code == 200, response.get_json()
                incident = response.get_json()
            assert incident["status"] == "completed", incident
    finally:
        if engine is not None:
            engine.db.dispose()
        with psycopg.connect(args.pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    n = len(latencies)
    s = ip.summary_ms(latencies)
    print(f"{n} measured completions (status codes {dict(codes)}), mode {args.mode}: "
          f"p50 {s['p50_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms, mean {s['mean_ms']:.2f} ms, one client, no concurrency"
          + (" (instrumentation adds overhead; compare shares)" if args.mode != "plain" else ""))
    print(f"Python CPU (this thread) per completion: {1000 * cpu_total / max(n, 1):.2f} ms; the rest of the wall "
          "time is waiting on PostgreSQL (round trips, commit fsync) or on other processes for a core")
    if start_cpu:
        print(f"POST /api/v1/incidents (start, not profiled): {1000 * sum(start_cpu) / len(start_cpu):.2f} ms Python CPU each")
    print("p50 ms by task:", ", ".join(f"{k.removeprefix('Task_')} {ip.summary_ms(v)['p50_ms']:.1f}"
                                      for k, v in sorted(by_element.items())))
    if wires:
        print("\non the wire (libpq trace) per completion of each task, BEGIN and COMMIT included:")
        for element, seen in wires.items():
            print(f"  {element:32} {seen.statements:3} statements {seen.round_trips:3} round trips")
    for element, stmts in statements.items():
        print(f"\nSQL of one {element} completion: {len(stmts)} statements through SQLAlchemy")
        for stmt in stmts:
            print("   ", stmt)
    if args.mode == "plain":
        return 0
    print("\nbreakdown per completion (inclusive; nested buckets overlap their parents):")
    print(f"  {'':64} {'wall ms':>8} {'CPU ms':>8} {'calls':>6}")
    for bucket, seconds in sorted(buckets.total.items(), key=lambda kv: kv[0]):
        print(f"  {bucket:64} {1000 * seconds / n:8.2f} {1000 * buckets.cpu[bucket] / n:8.2f} "
              f"{buckets.calls[bucket] / n:6.1f}")
    if args.mode == "buckets":
        return 0
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    by_package: collections.Counter[str] = collections.Counter()
    for (filename, _line, func), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_package[_package(filename, func)] += own
    clock = "CPU (thread_time)" if args.cpu else "wall"
    print(f"\nown time by package ({clock}, ms per completion, cProfile on):")
    for package, seconds in by_package.most_common(14):
        print(f"  {package:40} {1000 * seconds / n:8.2f} ms")
    # Our own functions first (before strip_dirs, so the path filter can tell engine/ and api/ apart).
    stream.write("\n=== our code (engine/, api/) by cumulative time ===\n")
    ours = re.escape(str(ip.ROOT)) + r"/(engine|api)/"
    stats.sort_stats("cumulative").print_stats(ours, args.top)
    stream.write("\n=== everything by cumulative time ===\n")
    stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
    stream.write("\n=== everything by own time ===\n")
    stats.sort_stats("tottime").print_stats(args.top)
    print(stream.getvalue())
    if args.out:
        profiler.dump_stats(str(args.out))
        print(f"raw stats: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
