"""Running loadtests/locustfile.py headless as a subprocess, reporting progress from its CSV as it goes.

Locust gets agents + 1 users (one is the dispatcher), spawned within a second, for `duration_s`; it is
killed (its whole process group) if it overruns by more than a minute.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import parse_stats
from .server import ROOT

LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
STOP_TIMEOUT_S = 5
OVERRUN_S = 60


@dataclass(frozen=True)
class LoadPlan:
    host: str
    procedure: str
    incidents_per_hour: int
    agents: int
    duration_s: int
    pass_probability: float
    drain_s: int = 0  # 0: the locustfile's default (a quarter of the run, 2..60 s)


def command(plan: LoadPlan, work_dir: Path, locustfile: Path = LOCUSTFILE) -> list[str]:
    users = plan.agents + 1
    args = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", plan.host,
            "-u", str(users), "-r", str(users), "-t", f"{plan.duration_s}s", "--stop-timeout", str(STOP_TIMEOUT_S),
            "--csv", str(work_dir / "stats"), "--only-summary", "--loglevel", "WARNING",
            "--procedure", plan.procedure, "--incidents-per-hour", str(plan.incidents_per_hour),
            "--pass-probability", str(plan.pass_probability), "--summary-file", str(work_dir / "summary.json")]
    if plan.drain_s:
        args += ["--drain-seconds", str(plan.drain_s)]
    return args


def progress(work_dir: Path, started: float, duration_s: int) -> dict[str, Any]:
    """What the run has done so far, from the CSV Locust rewrites every couple of seconds."""
    elapsed = time.monotonic() - started
    found: dict[str, Any] = {"phase": "load", "elapsed_s": round(elapsed, 1), "duration_s": duration_s,
                             "percent": min(100, round(100 * elapsed / duration_s)) if duration_s else 100}
    try:
        _endpoints, aggregated = parse_stats((work_dir / "stats_stats.csv").read_text())
    except OSError:
        return found
    if aggregated:
        found.update(requests=aggregated["requests"], failures=aggregated["failures"])
    return found


def run(plan: LoadPlan, work_dir: Path, *, token: str | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None, every_s: float = 2.0) -> dict[str, Any]:
    """Run Locust to the end; returns its exit code, the locustfile's own summary and the tail of its log."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    if token:
        env["LOCUST_TOKEN"] = token
    log_path = work_dir / "locust.log"
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command(plan, work_dir), cwd=work_dir, env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = started + plan.duration_s + STOP_TIMEOUT_S + OVERRUN_S
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"locust overran its {plan.duration_s} s run by more than {OVERRUN_S} s")
            time.sleep(min(every_s, max(0.1, deadline - time.monotonic())))
            if on_progress is not None and proc.poll() is None:
                on_progress(progress(work_dir, started, plan.duration_s))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    summary_path = work_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
    return {"exit_code": proc.returncode, "summary": summary, "log_tail": tail,
            "seconds": round(time.monotonic() - started, 1)}
