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
    /work/venv/bin/python benchmarks/completions.py                # defaults: about 1.5 minutes
    /work/venv/bin/python benchmarks/completions.py --http-seconds 60 --workers 3 --threads 4
    /work/venv/bin/python benchmarks/completions.py --skip-http    # in-process only

Figures also go to benchmarks/results/latest.json. Benchmarks print ratios; they are not timed tests.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _inprocess as ip  # noqa: E402
from _loop_passes import run_loop  # noqa: E402

try:
    import psutil
except ImportError:  # the /proc fallback below covers Linux without psutil
    psutil = None

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_RATIO = 0.4
TARGET_P95_MS = 35.0
TARGET_RSS_MB = 200.0
TARGET_SQLITE_P95_MS = 50.0
TARGET_GROWTH = 1.1  # CPU per completion at pass 45+ over pass 1 of a rework loop


# --------------------------------------------------------------------------------------------- (a) in-process

def run_inprocess(ld: ip.Loaded, seconds: float, pool: int, mode: str) -> dict[str, Any]:
    """Drive whole incidents round-robin (`pool` in flight) for `seconds`; time each completion."""
    active: collections.deque[list[Any]] = collections.deque()
    latencies: list[float] = []
    cpu_each: list[float] = []
    by_element: dict[str, list[float]] = collections.defaultdict(list)
    finished = started = 0
    gc.collect()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    deadline = wall0 + seconds
    while time.perf_counter() < deadline:
        if len(active) < pool:
            state, workflow = ip.raw_start(ld)
            active.append([state, ip.open_tasks(workflow)])
            started += 1
            continue
        incident = active.popleft()
        state, tasks = incident
        task_id, element_id = tasks[0]
        values = ip.form_for(element_id)
        c0, t0 = time.thread_time(), time.perf_counter()
        if mode == "raw":
            state, workflow = ip.raw_complete(ld, state, task_id, values)
            elapsed = time.perf_counter() - t0
            cpu_each.append(time.thread_time() - c0)
            tasks = ip.open_tasks(workflow)
            done = workflow.is_completed()
        else:
            state, tasks, status = ip.service_complete(ld, state, task_id, values)
            elapsed = time.perf_counter() - t0
            cpu_each.append(time.thread_time() - c0)
            done = status == "completed"
        latencies.append(elapsed)
        by_element[element_id].append(elapsed)
        if tasks:
            active.append([state, tasks])
        elif done:
            finished += 1
        else:
            raise SystemExit(f"in-process incident stuck after {element_id}: no open task, not completed")
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    result = ip.summary_ms(latencies)
    busy = sum(latencies)
    result.update({
        "mode": mode, "seconds": round(wall, 2), "incidents_started": started, "incidents_completed": finished,
        # The ceiling: completions per second of time spent completing (one thread, one core).
        "completions_per_s": len(latencies) / busy if busy else 0.0,
        "cpu_s": round(cpu, 2),
        # The same from CPU time: what the core could do if no other process took it (shared machine).
        "cpu_completions_per_s": len(cpu_each) / sum(cpu_each) if sum(cpu_each) else 0.0,
        "cpu_p50_ms": ip.summary_ms(cpu_each)["p50_ms"],
        "per_element_p50_ms": {k: round(ip.summary_ms(v)["p50_ms"], 3) for k, v in sorted(by_element.items())},
    })
    return result


# --------------------------------------------------------------------------------------------- process helpers

def _proc_rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _proc_children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                kids.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def server_tree(pid: int) -> list[int]:
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            return [pid, *(p.pid for p in root.children(recursive=True))]
        except psutil.Error:
            return []
    todo, seen = [pid], []
    while todo:
        current = todo.pop()
        seen.append(current)
        todo.extend(_proc_children(current))
    return seen


def rss_by_pid(pid: int) -> dict[int, int]:
    """Resident set size in bytes of the server process and all its descendants."""
    out = {}
    for child in server_tree(pid):
        try:
            if psutil is not None:
                out[child] = psutil.Process(child).memory_info().rss
            else:
                out[child] = _proc_rss_kb(child) * 1024
        except (OSError, Exception):  # noqa: BLE001 - a worker may exit between listing and reading
            continue
    return out


def cpu_seconds(pids: list[int]) -> float:
    if psutil is None:
        return float("nan")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


def postgres_cpu(database: str | None = None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL processes; with `database`, only the backends serving it (the
    machine is shared: other databases' backends are other people's work)."""
    if psutil is None:
        return {}
    found = {}
    for proc in psutil.process_iter(["name", "cpu_times", "cmdline"]):
        if proc.info["name"] != "postgres" or proc.info["cpu_times"] is None:
            continue
        if database is not None and f" {database} " not in " ".join(proc.info["cmdline"] or ()) + " ":
            continue
        found[proc.pid] = proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return found


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.stop = threading.Event()
        self.peak_total = 0
        self.peak_detail: dict[int, int] = {}
        self.samples = 0

    def run(self) -> None:
        while not self.stop.is_set():
            detail = rss_by_pid(self.pid)
            total = sum(detail.values())
            self.samples += 1
            if total > self.peak_total:
                self.peak_total, self.peak_detail = total, detail
            self.stop.wait(self.interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------- (b) HTTP

class Http:
    """One keep-alive HTTP/1.1 connection (http.client), reopened after a transport error."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        payload = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw[:300].decode(errors="replace")
        return response.status, parsed

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.completes: list[tuple[float, float, int, str]] = []  # (t0, t1, status, element)
        self.starts: list[tuple[float, float, int]] = []
        self.errors: collections.Counter[str] = collections.Counter()
        self.error_examples: list[str] = []
        self.incidents_completed = 0

    def error(self, kind: str, example: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_examples) < 5:
                self.error_examples.append(f"{kind}: {example}"[:400])


def client_loop(http_: Http, stats: Stats, stop: threading.Event, procedure: str) -> None:
    """Start an incident, complete its open tasks one by one until it ends; repeat until told to stop."""
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            # test incidents: the bundled versions are drafts on a fresh database, and a benchmark is not live work
            status, incident = http_.request("POST", "/api/v1/incidents",
                                             {"procedure": procedure, "data": ip.START_DATA, "test": True})
        except (OSError, http.client.HTTPException) as err:
            stats.error("start:transport", repr(err))
            time.sleep(0.05)
            continue
        t1 = time.perf_counter()
        with stats.lock:
            stats.starts.append((t0, t1, status))
        if status != 201:
            stats.error(f"start:{status}", str(incident))
            time.sleep(0.05)
            continue
        while not stop.is_set() and incident.get("status") == "running" and incident.get("open_tasks"):
            task = incident["open_tasks"][0]
            element = task["element_id"]
            path = f"/api/v1/tasks/{task['id']}/complete"
            t0 = time.perf_counter()
            try:
                status, body = http_.request("POST", path, {"data": ip.form_for(element)})
            except (OSError, http.client.HTTPException) as err:
                stats.error("complete:transport", repr(err))
                break
            t1 = time.perf_counter()
            with stats.lock:
                stats.completes.append((t0, t1, status, element))
            if status != 200 or not isinstance(body, dict):
                stats.error(f"complete:{status}", f"{element}: {body}")
                break
            incident = body
        if incident.get("status") == "completed":
            with stats.lock:
                stats.incidents_completed += 1
        elif incident.get("status") not in ("running", None):
            stats.error(f"incident:{incident.get('status')}", str(incident.get("error")))


def get_token(cli: str, env: dict[str, str]) -> tuple[str | None, str]:
    """BENCH_TOKEN, else `incident-engine token --user bench --role admin` when that command exists."""
    if os.environ.get("BENCH_TOKEN"):
        return os.environ["BENCH_TOKEN"], "BENCH_TOKEN"
    try:
        done = subprocess.run([cli, "token", "--user", "bench", "--role", "admin"], env=env, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"none (incident-engine token: {type(err).__name__})"
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip(), "incident-engine token"
    return None, f"none (incident-engine token exited {done.returncode})"


def create_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"ie_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return name, f"{base}/{name}"


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_healthy(http_: Http, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} before /healthz answered")
        try:
            status, body = http_.request("GET", "/healthz")
            if status == 200:
                return
            last = f"{status} {body}"
        except (OSError, http.client.HTTPException) as err:
            last = repr(err)
            http_.close()
        time.sleep(0.25)
    raise RuntimeError(f"/healthz did not answer 200 within {timeout:.0f} s (last: {last})")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of master and workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def run_http(args: argparse.Namespace, backend: str = "postgresql") -> dict[str, Any]:
    """(b) on a fresh PostgreSQL database, or (`backend="sqlite"`) on the embedded default: a SQLite file,
    one server process with workers x threads threads (what `serve` runs on SQLite)."""
    cli = shutil.which("incident-engine", path=str(Path(sys.executable).parent)) or shutil.which("incident-engine")
    if cli is None:
        raise SystemExit("incident-engine is not installed in this environment (pip install -e .)")
    load_before = os.getloadavg()
    instance = Path(tempfile.mkdtemp(prefix="ie-bench-"))
    sqlite = backend == "sqlite"
    workers, threads = (1, args.workers * args.threads) if sqlite else (args.workers, args.threads)
    db_name, db_url = ("sqlite", f"sqlite:///{instance / 'bench.sqlite3'}") if sqlite \
        else create_database(args.pg_admin_url)
    log_path = instance / "server.log"
    port = free_port()
    env = {**os.environ, **dict(kv.split("=", 1) for kv in args.server_env),
           "DATABASE_URL": db_url, "INCIDENT_ENGINE_INSTANCE": str(instance)}
    server: subprocess.Popen[bytes] | None = None
    sampler: RssSampler | None = None
    try:
        cmd = [cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
               "--threads", str(threads)]
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
        "clients": args.clients, "workers": workers, "threads": threads, "auth": auth, "backend": backend,
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


# --------------------------------------------------------------------------------------------- report

def _f(value: Any, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return format(value, spec)


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def print_report(report: dict[str, Any]) -> None:
    a, a2, b = report["inprocess_ceiling"], report.get("inprocess_runner"), report.get("http")
    rows = [("(a)  in-process ceiling, 1 core", a, "")]
    if a2:
        rows.append(("(a') our Runner, no DB, 1 core", a2, ""))
    if b:
        p95_ok = b["p95_ms"] < TARGET_P95_MS
        rows.append((f"(b)  HTTP+PostgreSQL, {b['clients']} clients", b,
                     f"p95 < {TARGET_P95_MS:.0f} ms   {verdict(p95_ok)}"))
    lite = report.get("http_sqlite")
    if lite:
        rows.append((f"(b') HTTP+SQLite, {lite['clients']} clients", lite,
                     f"p95 < {TARGET_SQLITE_P95_MS:.0f} ms   {verdict(lite['p95_ms'] < TARGET_SQLITE_P95_MS)}"))
    print()
    print(f"{'':34} {'compl/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'n':>7}   target")
    for label, r, target in rows:
        print(f"{label:34} {r['completions_per_s']:9.0f} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
              f"{r['p99_ms']:8.2f} {r['count']:7d}   {target}")
    if b:
        c = report["ratios"]
        print(f"{'(c)  b/a':34} {c['b_over_a']:9.2f} {'':35}   >= {TARGET_RATIO}       "
              f"{verdict(c['b_over_a'] >= TARGET_RATIO)}")
        if a2:
            print(f"{'     b/a_prime (info)':34} {c['b_over_a_prime']:9.2f}")
        if c.get("b_over_a_from_cpu"):
            print(f"{'     same from CPU time (info)':34} {c['b_over_a_from_cpu']:9.2f}   "
                  f"(b if the {os.cpu_count()} cores were ours: {b['capacity_from_cpu_per_s']:.0f}/s; "
                  f"a from CPU: {a['cpu_completions_per_s']:.0f}/s)")
        print(f"{'     server peak RSS (MB)':34} {b['rss_peak_mb']:9.0f} {'':35}   < {TARGET_RSS_MB:.0f} MB    "
              f"{verdict(b['rss_peak_mb'] < TARGET_RSS_MB)}")
        cpu = b["cpu_ms_per_completion"]
        print()
        print(f"server: {b['workers']} gunicorn gthread workers x {b['threads']} threads"
              + (f" (env {' '.join(report['args']['server_env'])})" if report["args"]["server_env"] else "") + "; "
              f"auth: {b['auth']}; boot {b['server_boot_s']} s")
        print(f"window {b['window_s']} s: {b['completes_ok_in_window']} ok of {b['completes_in_window']} completes; "
              f"all complete codes {b['complete_status_codes']}; start codes {b['start_status_codes']}; "
              f"errors {b['errors'] or 'none'}; incidents completed {b['incidents_completed']}")
        print(f"RSS idle {b['rss_idle_mb']:.0f} MB, peak {b['rss_peak_mb']:.0f} MB "
              f"(by pid {b['rss_peak_by_pid_mb']}), PSS at end {_f(b['pss_end_mb'], '.0f')} MB")
        print(f"CPU ms per completion: server {_f(cpu['server'], '.2f')}, postgres {_f(cpu['postgres'], '.2f')}, "
              f"bench client {_f(cpu['bench_client'], '.2f')}, other processes {_f(cpu['other_processes'], '.2f')}; "
              f"machine busy {_f(b['machine_busy_pct'], '.0f')} % of {os.cpu_count()} cores; "
              f"load average before {' '.join(f'{x:.1f}' for x in b['loadavg_before'])}")
        print(f"start incident p50 {_f(b['start_p50_ms'], '.1f')} ms (not counted); server CPU includes the starts "
              f"(1 per {ip.USER_TASKS_PER_INCIDENT} completions)")
        if cpu["other_processes"] and cpu["server"] and cpu["other_processes"] > 0.15 * cpu["server"]:
            print("WARNING: other processes used a noticeable share of the cores during the window; "
                  "re-run on a quiet machine before comparing runs")
        print("p50 ms by task, HTTP:", ", ".join(f"{k.removeprefix('Task_')} {v}" for k, v in b["per_element_p50_ms"].items()))
        if lite:
            cpu_lite = lite["cpu_ms_per_completion"]
            print(f"(b') SQLite: 1 process x {lite['threads']} threads; {lite['completes_ok_in_window']} ok of "
                  f"{lite['completes_in_window']} completes, errors {lite['errors'] or 'none'}; server CPU "
                  f"{_f(cpu_lite['server'], '.2f')} ms per completion; b'/a {lite['completions_per_s'] / a['completions_per_s']:.2f}")
        loop = b.get("loop")
        if loop and "error" in loop:
            print(f"(d) rework loop over HTTP FAILED after {loop['passes_done']} passes: {loop['error']}")
        elif loop:
            e, late = loop["early"], loop["late"]
            print(f"(d) rework loop over HTTP, {loop['clients']} incidents in step: passes {loop['early_range']} vs "
                  f"{loop['late_range']}: p50 {e['p50_ms']:.1f} vs {late['p50_ms']:.1f} ms "
                  f"(x{loop['growth_p50']:.2f}); server+PostgreSQL CPU per completion "
                  f"{e['server_cpu_ms'] + e['postgres_cpu_ms']:.2f} vs {late['server_cpu_ms'] + late['postgres_cpu_ms']:.2f}"
                  f" ms (x{loop['growth_cpu']:.2f})   <= {TARGET_GROWTH}  {verdict(loop['growth_cpu'] <= TARGET_GROWTH)}")
        if b["error_examples"]:
            print("error examples:", *b["error_examples"], sep="\n  ")
        if b["server_log_tail"]:
            print("server log tail:", *b["server_log_tail"], sep="\n  ")
    print("p50 ms by task, in-process (a):",
          ", ".join(f"{k.removeprefix('Task_')} {v}" for k, v in a["per_element_p50_ms"].items()))
    print(f"in-process: {a['incidents_completed']} incidents completed in {a['seconds']} s"
          + (f"; runner: {a2['incidents_completed']} in {a2['seconds']} s" if a2 else "")
          + f"; from CPU time: (a) {a['cpu_completions_per_s']:.0f}/s, p50 {a['cpu_p50_ms']:.2f} ms"
          + (f"; (a') {a2['cpu_completions_per_s']:.0f}/s, p50 {a2['cpu_p50_ms']:.2f} ms" if a2 else ""))


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
    if not args.skip_http:
        report["http"] = run_http(args)
        if not args.skip_sqlite:
            print("[b'] the same on the embedded SQLite default ...", file=sys.stderr)
            report["http_sqlite"] = run_http(args, "sqlite")
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
