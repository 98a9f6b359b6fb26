"""Task completions per second, side by side in one run (DESIGN.md, "Performance: how we measure").

  (a)  in-process SpiffWorkflow ceiling for bpmn/major_incident.bpmn: spec parsed once; per completion
       serializer.loads -> complete one user task with valid form data -> do_engine_steps -> serializer.dumps;
       no database, no HTTP, one core. Whole incidents are driven (every user task, both parallel branches).
  (a') the same incidents through engine.runtime.runner.Runner as the API calls it (loop guard, transition
       diff, open-task projection, the extra load/dump for the service task), still no database: shows how
       much of the gap between (a) and (b) is our runtime rather than storage/HTTP.
  (b)  the real service (`incident-engine serve`, gunicorn) on a fresh PostgreSQL database, 8 concurrent
       HTTP clients each starting major_incident incidents and completing their open tasks via
       POST /api/v1/tasks/{id}/complete. Only the complete calls are timed and counted.
  (c)  b/a, and the server's peak RSS (gunicorn master + workers).

Usage (from the repository root):
    .venv/bin/python benchmarks/completions.py                # defaults: about 1.5 minutes
    .venv/bin/python benchmarks/completions.py --http-seconds 60 --workers 3 --threads 4
    .venv/bin/python benchmarks/completions.py --skip-http    # in-process only

Figures also go to benchmarks/results/latest.json. Benchmarks print ratios; they are not timed tests.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _inprocess as ip  # noqa: E402
from _ceiling import run_inprocess  # noqa: E402
from _http_load import Http, Stats, client_loop, get_token  # noqa: E402
from _loop_passes import run_loop  # noqa: E402
from _procs import RssSampler, cpu_seconds, free_port, postgres_cpu, psutil, rss_by_pid, server_tree  # noqa: E402
from _report import TARGET_P95_MS, TARGET_RATIO, TARGET_RSS_MB, print_report  # noqa: E402
from _server import create_database, drop_database, stop_server, wait_healthy  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def sqlite_layout() -> tuple[int, int]:
    """`serve`'s default (processes, threads) on SQLite (engine.config.Settings.serve_layout)."""
    from engine.config import Settings

    return Settings(database_url="sqlite:///bench.sqlite3").serve_layout()


def run_http(args: argparse.Namespace, backend: str = "postgresql") -> dict[str, Any]:
    """(b) on a fresh PostgreSQL database, or (`backend="sqlite"`) on the embedded default: a SQLite file,
    one server process with workers x threads threads (what `serve` runs on SQLite)."""
    cli = shutil.which("incident-engine", path=str(Path(sys.executable).parent)) or shutil.which("incident-engine")
    if cli is None:
        raise SystemExit("incident-engine is not installed in this environment (pip install -e .)")
    load_before = os.getloadavg()
    instance = Path(tempfile.mkdtemp(prefix="ie-bench-"))
    sqlite = backend == "sqlite"
    workers, server_threads = (args.sqlite_workers or sqlite_layout()[0], args.sqlite_threads or sqlite_layout()[1]) \
        if sqlite else (args.workers, args.threads)
    db_name, db_url = ("sqlite", f"sqlite:///{instance / 'bench.sqlite3'}") if sqlite \
        else create_database(args.pg_admin_url)
    log_path = instance / "server.log"
    port = free_port()
    env = {**os.environ, **dict(kv.split("=", 1) for kv in args.server_env),
           "DATABASE_URL": db_url, "INCIDENT_ENGINE_INSTANCE": str(instance),
           "BOOTSTRAP_BUNDLED": "0"}  # the bundled procedures as drafts: the benchmark starts test incidents
    server: subprocess.Popen[bytes] | None = None
    sampler: RssSampler | None = None
    try:
        cmd = [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--threads", str(server_threads)]
        print(f"[b] database {db_name}; starting: {' '.join(cmd)}", file=sys.stderr)
        with open(log_path, "wb") as log:
            server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      cwd=str(instance))
        probe = Http("127.0.0.1", port, {})
        t_boot = time.perf_counter()
        wait_healthy(probe, server, args.startup_timeout)
        boot_s = time.perf_counter() - t_boot
        probe.close()
        token, auth = get_token(cli, env)
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        check = Http("127.0.0.1", port, headers)
        status, body = check.request("GET", "/api/v1/procedures")
        check.close()
        if status != 200:
            raise RuntimeError(f"GET /api/v1/procedures answered {status}: {body} (auth: {auth})")
        idle_rss = sum(rss_by_pid(server.pid).values())
        sampler = RssSampler(server.pid)
        sampler.start()

        stats, stop = Stats(), threading.Event()
        clients = [Http("127.0.0.1", port, headers) for _ in range(args.clients)]
        threads = [threading.Thread(target=client_loop, args=(c, stats, stop, ip.PROCEDURE), daemon=True)
                   for c in clients]
        print(f"[b] {args.clients} clients, warm-up {args.warmup_seconds:.0f} s, measuring "
              f"{args.http_seconds:.0f} s (auth: {auth})", file=sys.stderr)
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        w0 = started + args.warmup_seconds
        time.sleep(max(0.0, w0 - time.perf_counter()))
        tree = server_tree(server.pid)
        cpu_server0, cpu_pg0 = cpu_seconds(tree), postgres_cpu(db_name)
        cpu_client0 = time.process_time()
        machine0 = psutil.cpu_times() if psutil else None
        w1 = w0 + args.http_seconds
        time.sleep(max(0.0, w1 - time.perf_counter()))
        tree = server_tree(server.pid)
        cpu_server1, cpu_pg1 = cpu_seconds(tree), postgres_cpu(db_name)
        cpu_client1 = time.process_time()
        machine1 = psutil.cpu_times() if psutil else None
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
        for c in clients:
            c.close()
        loop = None
        if args.loop_passes and not sqlite:
            print(f"[d] {args.clients} incidents x {args.loop_passes} rework-loop passes ...", file=sys.stderr)
            loop = run_loop(lambda: Http("127.0.0.1", port, headers), args.clients, args.loop_passes,
                            lambda: (cpu_seconds(server_tree(server.pid)), sum(postgres_cpu(db_name).values())))
        sampler.stop.set()
        sampler.join(timeout=5)
        pss = None
        if psutil is not None:
            with contextlib.suppress(psutil.Error, AttributeError):
                pss = sum(psutil.Process(p).memory_full_info().pss for p in server_tree(server.pid))
        server_alive = server.poll() is None
    finally:
        if sampler is not None:
            sampler.stop.set()
        if server is not None:
            stop_server(server)
        try:
            if not sqlite:
                drop_database(args.pg_admin_url, db_name)
        except Exception as err:  # noqa: BLE001 - report, do not hide the benchmark's own error
            print(f"[b] could not drop database {db_name}: {err}", file=sys.stderr)

    window = w1 - w0
    in_window = [c for c in stats.completes if w0 <= c[1] <= w1]
    ok = [c for c in in_window if c[2] == 200]
    codes = collections.Counter(str(c[2]) for c in stats.completes)
    start_codes = collections.Counter(str(s[2]) for s in stats.starts)
    by_element: dict[str, list[float]] = collections.defaultdict(list)
    for t0, t1, _status, element in ok:
        by_element[element].append(t1 - t0)
    result = ip.summary_ms([t1 - t0 for t0, t1, _s, _e in ok])
    starts_in_window = [s[1] - s[0] for s in stats.starts if w0 <= s[1] <= w1 and s[2] == 201]
    pg_delta = sum(v - cpu_pg0.get(pid, 0.0) for pid, v in cpu_pg1.items())
    n_ok = max(len(ok), 1)
    machine_busy = other_ms = None
    if machine0 is not None and machine1 is not None:
        total = sum(machine1) - sum(machine0)
        idle = (machine1.idle + getattr(machine1, "iowait", 0)) - (machine0.idle + getattr(machine0, "iowait", 0))
        machine_busy = 100.0 * (total - idle) / total if total else None
        # CPU that neither the server, PostgreSQL nor this client used: other work on a shared machine.
        accounted = (cpu_server1 - cpu_server0) + pg_delta + (cpu_client1 - cpu_client0)
        other_ms = 1000 * max(0.0, (total - idle) - accounted) / n_ok
    log_tail = log_path.read_text(errors="replace").splitlines()[-5:] if log_path.exists() else []
    errors_in_log = sum(1 for line in log_path.read_text(errors="replace").splitlines()
                        if '"level": "ERROR"' in line or "Traceback" in line) if log_path.exists() else 0
    shutil.rmtree(instance, ignore_errors=True)
    result.update({
        "completions_per_s": len(ok) / window,
        "window_s": round(window, 2), "completes_in_window": len(in_window), "completes_ok_in_window": len(ok),
        "complete_status_codes": dict(codes), "start_status_codes": dict(start_codes),
        "errors": dict(stats.errors), "error_examples": stats.error_examples,
        "incidents_completed": stats.incidents_completed,
        "start_p50_ms": ip.summary_ms(starts_in_window)["p50_ms"],
        "per_element_p50_ms": {k: round(ip.summary_ms(v)["p50_ms"], 2) for k, v in sorted(by_element.items())},
        "clients": args.clients, "workers": workers, "threads": server_threads, "auth": auth, "backend": backend,
        "server_boot_s": round(boot_s, 1), "server_alive_at_end": server_alive, "server_log_errors": errors_in_log,
        "server_log_tail": log_tail if not server_alive or errors_in_log else [],
        "rss_idle_mb": idle_rss / 2**20, "rss_peak_mb": sampler.peak_total / 2**20,
        "rss_peak_by_pid_mb": {str(k): round(v / 2**20, 1) for k, v in sampler.peak_detail.items()},
        "pss_end_mb": (pss / 2**20) if pss else None, "rss_samples": sampler.samples,
        "cpu_ms_per_completion": {
            "server": 1000 * (cpu_server1 - cpu_server0) / n_ok,
            "postgres": 1000 * pg_delta / n_ok if psutil else None,
            "bench_client": 1000 * (cpu_client1 - cpu_client0) / n_ok,
            "other_processes": other_ms,
        },
        "loadavg_before": load_before,
        "machine_busy_pct": machine_busy,
        "loop": loop,
    })
    # What (b) would be with the cores to ourselves: cores / CPU that server + PostgreSQL + client spent.
    spent = sum(v for k, v in result["cpu_ms_per_completion"].items() if k != "other_processes" and v is not None)
    result["capacity_from_cpu_per_s"] = (os.cpu_count() or 1) * 1000.0 / spent if spent else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--inprocess-seconds", type=float, default=15.0, help="duration of (a) and of (a') each")
    parser.add_argument("--pool", type=int, default=32, help="incidents in flight in the in-process runs")
    parser.add_argument("--skip-runner", action="store_true", help="skip (a'), the Runner path without DB")
    parser.add_argument("--skip-http", action="store_true", help="in-process figures only")
    parser.add_argument("--http-seconds", type=float, default=40.0, help="measured window of (b)")
    parser.add_argument("--warmup-seconds", type=float, default=5.0, help="HTTP load before the window (spec caches, pools)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (one per core)")
    parser.add_argument("--threads", type=int, default=4, help="gthread threads per worker (workers x threads = clients)")
    parser.add_argument("--skip-sqlite", action="store_true", help="skip (b'), the HTTP run on SQLite")
    parser.add_argument("--skip-postgresql", action="store_true", help="skip (b) and (d), the PostgreSQL runs")
    parser.add_argument("--sqlite-workers", type=int, default=0,
                        help="server processes on SQLite (default: what `serve` runs on SQLite)")
    parser.add_argument("--sqlite-threads", type=int, default=0,
                        help="threads per SQLite server process (default: what `serve` runs on SQLite)")
    parser.add_argument("--loop-passes", type=int, default=50,
                        help="(d): rework-loop passes per client after the window (0: skip)")
    parser.add_argument("--startup-timeout", type=float, default=120.0)
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                        help="extra environment for the server (repeatable), e.g. LOG_LEVEL=WARNING")
    parser.add_argument("--pg-admin-url", default=os.environ.get(
        "INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1/postgres").replace("+psycopg", ""),
        help="maintenance database used to CREATE/DROP the benchmark database")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
        "python": platform.python_version(), "cpus": os.cpu_count(), "procedure": ip.PROCEDURE,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "targets": {"b_over_a_min": TARGET_RATIO, "http_p95_ms_max": TARGET_P95_MS, "server_rss_mb_max": TARGET_RSS_MB},
    }
    ld = ip.load()
    print(f"[a] in-process ceiling, {args.inprocess_seconds:.0f} s ...", file=sys.stderr)
    report["inprocess_ceiling"] = run_inprocess(ld, args.inprocess_seconds, args.pool, "raw")
    if not args.skip_runner:
        print(f"[a'] Runner path without database, {args.inprocess_seconds:.0f} s ...", file=sys.stderr)
        report["inprocess_runner"] = run_inprocess(ld, args.inprocess_seconds, args.pool, "service")
    if not args.skip_http and args.skip_postgresql:
        report["http_sqlite"] = run_http(args, "sqlite")
    elif not args.skip_http:
        report["http"] = run_http(args)
        if not args.skip_sqlite:
            print("[b'] the same on the embedded SQLite default ...", file=sys.stderr)
            try:
                report["http_sqlite"] = run_http(args, "sqlite")
            except RuntimeError as err:  # reported; the PostgreSQL figures still print
                print(f"[b'] SQLite run failed: {err}", file=sys.stderr)
        a = report["inprocess_ceiling"]["completions_per_s"]
        b = report["http"]["completions_per_s"]
        report["ratios"] = {"b_over_a": b / a if a else 0.0}
        capacity = report["http"].get("capacity_from_cpu_per_s")
        a_cpu = report["inprocess_ceiling"]["cpu_completions_per_s"]
        if capacity and a_cpu:
            report["ratios"]["b_over_a_from_cpu"] = capacity / a_cpu
        if report.get("inprocess_runner"):
            report["ratios"]["b_over_a_prime"] = b / report["inprocess_runner"]["completions_per_s"]
        http_ = report["http"]
        report["targets_met"] = {
            "b_over_a": report["ratios"]["b_over_a"] >= TARGET_RATIO,
            "http_p95": http_["p95_ms"] < TARGET_P95_MS,
            "server_rss": http_["rss_peak_mb"] < TARGET_RSS_MB,
        }
    print_report(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwritten: {args.json}")
    http_ = report.get("http")
    lite = report.get("http_sqlite")
    if lite and (lite["errors"] or lite["completes_ok_in_window"] != lite["completes_in_window"]):
        print("the SQLite HTTP run had failed requests; see errors above", file=sys.stderr)
        return 1
    if http_ and (http_["errors"] or (http_.get("loop") or {}).get("error") or http_["completes_ok_in_window"] != http_["completes_in_window"]
                  or not http_["server_alive_at_end"]):
        print("the HTTP run had failed requests; see errors above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
