"""(d) of completions.py: the cost of one completion at pass 1 and at pass 45+ of a rework loop, over HTTP.

Every client starts a major incident whose caller is not verified, triages it, then answers Verify caller
identity "not verified" again and again: the triage_complete check fails and the token loops back, the same
work at every pass. The clients wait for each other at the end of every pass (a barrier), so each pass runs
at the same concurrency; at each barrier the server's and PostgreSQL's CPU time are read, so the CPU per
completion of a range of passes is measured, not only its latency.
"""
from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import _inprocess as ip

VERIFY = "Task_VerifyCallerIdentity"


def _client(http_: Any, passes: int, barrier: threading.Barrier, latencies: list[list[float]],
            errors: list[str]) -> None:
    def step(path: str, body: dict[str, Any], want: int) -> dict[str, Any]:
        status, answer = http_.request("POST", path, body)
        if status != want or not isinstance(answer, dict):
            raise RuntimeError(f"{path} answered {status}: {str(answer)[:200]}")
        return answer

    def complete(incident: dict[str, Any], element: str, data: dict[str, Any]) -> tuple[dict[str, Any], float]:
        [task] = [t for t in incident["open_tasks"] if t["element_id"] == element]
        t0 = time.perf_counter()
        answer = step(f"/api/v1/tasks/{task['id']}/complete", {"data": data}, 200)
        return answer, time.perf_counter() - t0

    try:
        incident = step("/api/v1/incidents", {"procedure": ip.PROCEDURE, "data": ip.START_DATA, "test": True}, 201)
        incident, _ = complete(incident, "Task_LogIncident", ip.FAIL_LOG)
        incident, _ = complete(incident, "Task_Triage", ip.FORMS["Task_Triage"])
        for n in range(passes):
            incident, took = complete(incident, VERIFY, ip.FAIL_VERIFY)
            latencies[n].append(took)
            barrier.wait(timeout=120)
    except Exception as err:  # noqa: BLE001 - reported; the others are released
        errors.append(repr(err)[:300])
        barrier.abort()


def run_loop(make_http: Callable[[], Any], clients: int, passes: int,
             cpu_now: Callable[[], tuple[float, float]]) -> dict[str, Any]:
    """Drive `clients` incidents through `passes` loop passes; latency and CPU per completion by pass."""
    latencies: list[list[float]] = [[] for _ in range(passes)]
    marks: list[tuple[float, float]] = []  # (server CPU s, PostgreSQL CPU s) at the end of each pass
    errors: list[str] = []
    barrier = threading.Barrier(clients, action=lambda: marks.append(cpu_now()))
    start = cpu_now()
    connections = [make_http() for _ in range(clients)]
    threads = [threading.Thread(target=_client, args=(c, passes, barrier, latencies, errors), daemon=True)
               for c in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    for c in connections:
        c.close()
    if errors or len(marks) < passes:
        return {"error": errors[0] if errors else "the loop did not finish", "passes_done": len(marks)}
    marks.insert(0, start)

    def window(first: int, last: int) -> dict[str, float]:
        """Passes first..last (1-based, inclusive): latency p50 and CPU ms per completion."""
        took = [t for n in range(first - 1, last) for t in latencies[n]]
        server = marks[last][0] - marks[first - 1][0]
        postgres = marks[last][1] - marks[first - 1][1]
        count = clients * (last - first + 1)
        return {"p50_ms": 1000 * statistics.median(took), "server_cpu_ms": 1000 * server / count,
                "postgres_cpu_ms": 1000 * postgres / count}

    early = window(2, 6)  # pass 1 also warms the caches of a worker that had not seen a Verify yet
    late = window(passes - 4, passes)
    return {"clients": clients, "passes": passes, "early": early, "late": late,
            "early_range": "2-6", "late_range": f"{passes - 4}-{passes}",
            "growth_p50": late["p50_ms"] / early["p50_ms"],
            "growth_cpu": (late["server_cpu_ms"] + late["postgres_cpu_ms"])
            / (early["server_cpu_ms"] + early["postgres_cpu_ms"])}
