"""Per-transition cost as an incident's history grows (in-process, no database, no HTTP).

major_incident's rework loop: Log incident with the caller not verified, Triage -> the triage_complete check
fails -> Verify caller identity -> verified "no" again -> the check fails again -> Verify caller identity ...
At each depth N (rework loops already done) the state is saved, then ONE completion is timed, repeatedly,
from that same saved state:

  fail   Verify caller identity answered "not verified": the token loops back (the same work at every depth)
  pass   Verify caller identity answered "verified": the check passes, the parallel split, the service task
         and the SLA timer run (the expensive transition of this procedure)

Each is timed two ways: "raw" = serializer.loads -> task.run -> do_engine_steps -> serializer.dumps (the
SpiffWorkflow ceiling, split into its three phases), and "runner" = engine.runtime.runner.Runner.complete
as the service calls it (plus Runner.finish_service for the service task, as engine.services.advance does).
The design's bar is that per-transition cost stays flat as history grows.

Usage: .venv/bin/python benchmarks/history_growth.py [--depths 1,10,45,200,1000] [--reps 40]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _inprocess as ip  # noqa: E402

from engine.runtime import serializer  # noqa: E402
from engine.runtime.runner import IncidentFailed  # noqa: E402

VERIFY = "Task_VerifyCallerIdentity"


def state_at_depth(ld: ip.Loaded, depth: int) -> tuple[str, str]:
    """(state, id of the ready Verify caller identity task) after `depth` failed re-verifications."""
    state, workflow = ip.raw_start(ld)
    tasks = ip.open_tasks(workflow)
    assert [e for _i, e in tasks] == ["Task_LogIncident"], tasks
    state, tasks, _status = ip.service_complete(ld, state, tasks[0][0], ip.FAIL_LOG)
    assert [e for _i, e in tasks] == ["Task_Triage"], tasks
    state, tasks, _status = ip.service_complete(ld, state, tasks[0][0], ip.FORMS["Task_Triage"])
    for _loop in range(depth):
        assert [e for _i, e in tasks] == [VERIFY], tasks
        state, tasks, _status = ip.service_complete(ld, state, tasks[0][0], ip.FAIL_VERIFY)
    assert [e for _i, e in tasks] == [VERIFY], tasks
    return state, tasks[0][0]


class Timings:
    """Wall and CPU (thread_time) samples of one transition at one depth, with the raw phases."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.phases: dict[str, list[float]] = {"loads": [], "engine": [], "dumps": []}
        self.state_after_bytes = 0
        self.error: str | None = None

    def summary(self) -> dict[str, Any]:
        if self.error or not self.wall:
            return {"error": self.error, "median_ms": None, "min_ms": None, "cpu_median_ms": None}
        out = {"median_ms": statistics.median(self.wall) * 1000, "min_ms": min(self.wall) * 1000,
               "cpu_median_ms": statistics.median(self.cpu) * 1000}
        out.update({f"{k}_cpu_ms": statistics.median(v) * 1000 for k, v in self.phases.items() if v})
        if self.state_after_bytes:
            out["state_after_bytes"] = self.state_after_bytes
        return out


def time_raw(ld: ip.Loaded, state: str, task_id: str, values: dict[str, Any], into: Timings) -> None:
    """One ceiling completion: loads -> run the task -> engine steps (+ service task) -> dumps."""
    w0, c0 = time.perf_counter(), time.thread_time()
    workflow = serializer.loads(state, ld.spec, ld.subprocess_specs, ld.script_engine)
    c1 = time.thread_time()
    task = workflow.get_task_from_id(UUID(task_id))
    task.data.update(values)
    task.run()
    workflow.do_engine_steps()
    ip._settle_services(ld, workflow)
    c2 = time.thread_time()
    new_state = serializer.dumps(workflow)
    c3, w3 = time.thread_time(), time.perf_counter()
    into.wall.append(w3 - w0)
    into.cpu.append(c3 - c0)
    into.phases["loads"].append(c1 - c0)
    into.phases["engine"].append(c2 - c1)
    into.phases["dumps"].append(c3 - c2)
    into.state_after_bytes = len(new_state.encode())


def time_runner(ld: ip.Loaded, state: str, task_id: str, values: dict[str, Any], into: Timings) -> None:
    """One completion as the service runs it (Runner.complete, then finish_service for the service task)."""
    if into.error:
        return
    w0, c0 = time.perf_counter(), time.thread_time()
    try:
        ip.service_complete(ld, state, task_id, values)
    except IncidentFailed as err:
        into.error = str(err)
        return
    into.cpu.append(time.thread_time() - c0)
    into.wall.append(time.perf_counter() - w0)


def _tree_depth(workflow: Any) -> int:
    """Levels in the task tree (SpiffWorkflow recurses along it; its iterator stops at depth 1000)."""
    deepest = 0
    for task in workflow.tasks.values():
        level, node = 0, task
        while node.parent is not None:
            level, node = level + 1, node.parent
        deepest = max(deepest, level)
    return deepest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depths", default="1,10,45,200,1000",
                        help="rework loops before the timed completion (the saved state is pruned, see "
                             "engine/runtime/prune.py; the loop cap is raised above the deepest)")
    parser.add_argument("--reps", type=int, default=40, help="timed repetitions per depth and transition")
    parser.add_argument("--json", type=Path, default=ip.ROOT / "benchmarks" / "results" / "history_growth.json")
    args = parser.parse_args(argv)
    depths = [int(d) for d in args.depths.split(",")]

    ld = ip.load(loop_cap=max(depths) + 10)
    states = {}
    for depth in depths:
        state, task_id = state_at_depth(ld, depth)
        workflow = serializer.loads(state, ld.spec, ld.subprocess_specs, ld.script_engine)
        states[depth] = (state, task_id, len(workflow.tasks), _tree_depth(workflow))
    print(f"states built for depths {depths}; timing {args.reps} interleaved reps ...", file=sys.stderr)
    kinds = {"fail_raw": (time_raw, ip.FAIL_VERIFY), "fail_runner": (time_runner, ip.FAIL_VERIFY),
             "pass_raw": (time_raw, ip.FORMS[VERIFY]), "pass_runner": (time_runner, ip.FORMS[VERIFY])}
    timings = {(d, k): Timings() for d in depths for k in kinds}
    gc.collect()
    # Interleaved (every depth in every round) so background load on a shared machine hits all depths alike.
    for _rep in range(args.reps):
        for depth in depths:
            state, task_id, _n, _d = states[depth]
            for kind, (fn, values) in kinds.items():
                fn(ld, state, task_id, values, timings[(depth, kind)])
    rows = []
    for depth in depths:
        state, _task_id, nodes, tree_depth = states[depth]
        rows.append({"depth": depth, "state_bytes": len(state.encode()), "task_nodes": nodes, "tree_depth": tree_depth,
                     **{kind: timings[(depth, kind)].summary() for kind in kinds}})

    def f(value: Any) -> str:
        return "  err" if value is None else f"{value:6.2f}"

    print(f"\nper-transition cost vs history depth (major_incident rework loop; medians of {args.reps} interleaved reps)")
    print("CPU ms (thread time: robust on a shared machine); wall ms in brackets")
    print(f"{'loops':>5} {'nodes':>5} {'depth':>5} {'state B':>8} | {'fail: raw':>15} {'loads':>6} {'engine':>6} "
          f"{'dumps':>6} {'runner':>15} | {'pass: raw':>15} {'runner':>15}")

    def cell(t: dict[str, Any]) -> str:
        if t.get("error"):
            return f"{'error':>15}"
        return f"{t['cpu_median_ms']:6.2f} [{t['median_ms']:6.2f}]"

    for r in rows:
        fr = r["fail_raw"]
        print(f"{r['depth']:5d} {r['task_nodes']:5d} {r['tree_depth']:5d} {r['state_bytes']:8d} | {cell(fr)} "
              f"{fr['loads_cpu_ms']:6.2f} {fr['engine_cpu_ms']:6.2f} {fr['dumps_cpu_ms']:6.2f} {cell(r['fail_runner'])} | "
              f"{cell(r['pass_raw'])} {cell(r['pass_runner'])}")
        for key in ("fail_runner", "pass_runner"):
            if r[key].get("error"):
                print(f"      {key}: {r[key]['error']}")
    first, last = rows[0], rows[-1]
    if last["depth"] > first["depth"]:
        loops = last["depth"] - first["depth"]
        growth = last["fail_raw"]["cpu_median_ms"] / first["fail_raw"]["cpu_median_ms"]
        per_loop_us = 1000 * (last["fail_raw"]["cpu_median_ms"] - first["fail_raw"]["cpu_median_ms"]) / loops
        per_loop_b = (last["state_bytes"] - first["state_bytes"]) / loops
        nodes_per_loop = (last["task_nodes"] - first["task_nodes"]) / loops
        verdict = "flat (within 1.5x)" if growth < 1.5 else "GROWS with history"
        print(f"\nthe same (fail) transition at {last['depth']} loops costs {growth:.1f}x its CPU cost at "
              f"{first['depth']} loops: {verdict}; about {per_loop_us:.0f} us CPU and {per_loop_b:.0f} B of state "
              f"per rework loop ({nodes_per_loop:.0f} task nodes and "
              f"{(last['tree_depth'] - first['tree_depth']) / loops:.0f} tree levels per loop)")
        pr = [r["pass_runner"] for r in (first, last)]
        if all(p.get("cpu_median_ms") for p in pr):
            print(f"the pass transition through our Runner: {pr[0]['cpu_median_ms']:.2f} -> {pr[1]['cpu_median_ms']:.2f} ms CPU")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"reps": args.reps, "rows": rows}, indent=2) + "\n")
    print(f"written: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
