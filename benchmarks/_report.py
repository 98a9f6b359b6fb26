"""Printing the side-by-side report of completions.py."""
from __future__ import annotations

import os
from typing import Any

import _inprocess as ip

TARGET_RATIO = 0.4
TARGET_P95_MS = 35.0
TARGET_SQLITE_P95_MS = 50.0
TARGET_RSS_MB = 200.0
TARGET_GROWTH = 1.1  # CPU per completion at pass 45+ over pass 1 of a rework loop


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
    if b or lite:
        print_side_by_side(b, lite)
    print("p50 ms by task, in-process (a):",
          ", ".join(f"{k.removeprefix('Task_')} {v}" for k, v in a["per_element_p50_ms"].items()))
    print(f"in-process: {a['incidents_completed']} incidents completed in {a['seconds']} s"
          + (f"; runner: {a2['incidents_completed']} in {a2['seconds']} s" if a2 else "")
          + f"; from CPU time: (a) {a['cpu_completions_per_s']:.0f}/s, p50 {a['cpu_p50_ms']:.2f} ms"
          + (f"; (a') {a2['cpu_completions_per_s']:.0f}/s, p50 {a2['cpu_p50_ms']:.2f} ms" if a2 else ""))


def print_side_by_side(pg: dict[str, Any] | None, lite: dict[str, Any] | None) -> None:
    """(b) and (b') in two columns: the same load on PostgreSQL and on the embedded SQLite default."""
    runs = [(name, r) for name, r in (("PostgreSQL", pg), ("SQLite", lite)) if r]
    lines: list[tuple[str, Any]] = [
        ("server processes x threads", lambda r: f"{r['workers']} x {r['threads']}"),
        ("completions/s", lambda r: f"{r['completions_per_s']:.0f}"),
        ("p50 / p95 / p99 ms", lambda r: f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f}"),
        ("ok / completes in window", lambda r: f"{r['completes_ok_in_window']} / {r['completes_in_window']}"),
        ("CPU ms/completion: server", lambda r: _f(r["cpu_ms_per_completion"]["server"], ".2f")),
        ("CPU ms/completion: PostgreSQL", lambda r: _f(r["cpu_ms_per_completion"]["postgres"], ".2f")
         if r["backend"] != "sqlite" else "(in the server)"),
        ("CPU ms/completion: other processes", lambda r: _f(r["cpu_ms_per_completion"]["other_processes"], ".2f")),
        ("RSS idle / peak MB (sum of processes)", lambda r: f"{r['rss_idle_mb']:.0f} / {r['rss_peak_mb']:.0f}"),
        ("PSS at end MB (shared pages counted once)", lambda r: _f(r["pss_end_mb"], ".0f")),
        ("machine busy %; load average before", lambda r: f"{_f(r['machine_busy_pct'], '.0f')}; "
         + " ".join(f"{x:.1f}" for x in r["loadavg_before"])),
        ("errors", lambda r: str(r["errors"] or "none")),
    ]
    print()
    print(f"{'HTTP, side by side':42}" + "".join(f"{name:>26}" for name, _r in runs))
    for label, cell in lines:
        print(f"{label:42}" + "".join(f"{cell(r):>26}" for _name, r in runs))
