"""(a) and (a') of completions.py: whole incidents driven in-process, each completion timed (no database, no HTTP)."""
from __future__ import annotations

import collections
import gc
import time
from typing import Any

import _inprocess as ip


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
