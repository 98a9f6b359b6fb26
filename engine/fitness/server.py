"""The engine served as a real subprocess (`python -m api.cli serve`) for a fitness test, with its memory watched.

It binds a free port on 127.0.0.1, is polled on /healthz until ready, samples the resident memory of its
whole process tree (gunicorn master and workers) from /proc, and is always stopped: SIGTERM to its
process group, then SIGKILL after a grace period.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parents[2]
# About 12 s on a quiet 2-core machine; twice the 10,000 incidents/hour fitness run of major_incident ended
# "not ready after 90 s" at load average 14 (the migration check and both workers' imports, CPU-starved).
START_TIMEOUT_S = 240.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").glob("*/children"))
        except OSError:  # the process ended while we looked
            continue
        for task in tasks:
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except (OSError, ValueError):
                continue
    return found


class ServerProcess:
    """A context manager: start on enter, stop on exit; `url` and `peak_rss_bytes` while and after it runs."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 0,
                 start_timeout: float = START_TIMEOUT_S) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log_path, self.workers, self.start_timeout = env, log_path, workers, start_timeout
        self.peak_rss_bytes = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True, name="fitness-rss")

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers:
            command += ["--workers", str(self.workers)]
        env = {**os.environ, **self.env,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self._sampler.start()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"the engine server exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"the engine server was not ready after {self.start_timeout:g} s: {self.log_tail()}")

    def _sample(self) -> None:
        while not self._stop.is_set() and self._proc is not None and self._proc.poll() is None:
            total = sum(_rss_kib(pid) for pid in _tree(self._proc.pid)) * 1024
            self.peak_rss_bytes = max(self.peak_rss_bytes, total)
            self._stop.wait(0.25)

    def stop(self, grace: float = 15.0) -> None:
        self._stop.set()
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=grace)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
