"""The processes a benchmark watches: a server's process tree, its RSS and CPU time, PostgreSQL's backends."""
from __future__ import annotations

import contextlib
import os
import socket
import threading

try:
    import psutil
except ImportError:  # the /proc fallback covers Linux without psutil
    psutil = None


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
