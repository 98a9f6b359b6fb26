"""Fitness-test reports: Locust CSV parsed, thresholds applied, the verdict explained."""
from __future__ import annotations

from pathlib import Path

from engine.fitness import locust_run
from engine.fitness.report import Thresholds, build, parse_failures, parse_stats

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
          "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
          "99.99%,100%\n")
STATS = HEADER + (
    "GET,GET /api/v1/tasks,96,0,19,24.6,4.3,113.0,689.6,10.85,0.0,19,24,33,40,46,66,110,110,110,110,110\n"
    "POST,POST /api/v1/tasks/[id]/complete,67,2,44,51.4,8.1,765.5,649.1,7.57,0.2,44,59,73,74,100,620,700,760,760,760,760\n"
    ",Aggregated,163,2,22,31.9,2.9,765.5,731.4,26.79,0.2,22,33,41,47,66,98,120,130,230,230,230\n")
FAILURES = "Method,Name,Error,Occurrences\nPOST,POST /api/v1/tasks/[id]/complete,422: bad data,2\n"
SETTLED = {"started": 10, "completed": 9, "running": 1, "waiting_on_timer": 1, "error": 0, "unsettled": 0,
           "tasks_completed": 40}


def test_stats_are_parsed_per_endpoint_with_percentiles() -> None:
    endpoints, aggregated = parse_stats(STATS)
    assert [e["name"] for e in endpoints] == ["GET /api/v1/tasks", "POST /api/v1/tasks/[id]/complete"]
    assert endpoints[1] | {} == {"method": "POST", "name": "POST /api/v1/tasks/[id]/complete", "requests": 67,
                                 "failures": 2, "requests_per_second": 7.57, "avg_ms": 51.4, "min_ms": 8.1,
                                 "max_ms": 765.5, "p50_ms": 44.0, "p95_ms": 620.0, "p99_ms": 760.0}
    assert aggregated is not None and aggregated["requests"] == 163
    assert parse_stats("") == ([], None)
    assert parse_stats(HEADER + "GET,x,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n")[0][0]["p95_ms"] is None


def test_failures_are_listed() -> None:
    assert parse_failures(FAILURES) == [{"method": "POST", "name": "POST /api/v1/tasks/[id]/complete",
                                         "error": "422: bad data", "occurrences": 2}]


def test_every_broken_threshold_is_a_reason() -> None:
    report = build(stats_csv=STATS, failures_csv=FAILURES, counts={**SETTLED, "unsettled": 3}, duration_s=20,
                   peak_rss_bytes=150 * 2**20, thresholds=Thresholds())
    assert report["passed"] is False
    assert report["reasons"] == [
        "2 request(s) failed (allowed: 0)",
        "p95 of POST /api/v1/tasks/[id]/complete is 620 ms (limit: under 500 ms)",
        "3 of 10 incident(s) were neither completed nor waiting only on a timer when the run ended"]
    assert report["tasks"] == {"completed": 40, "completions_per_second": 2.0}
    assert report["server"] == {"peak_rss_bytes": 150 * 2**20, "peak_rss_mib": 150.0}
    assert report["thresholds"] == {"max_failures": 0, "p95_ms": 500.0, "require_settled": True,
                                    "min_arrival_ratio": 0.9}


def test_configured_thresholds_can_pass_the_same_run() -> None:
    report = build(stats_csv=STATS, failures_csv=FAILURES, counts={**SETTLED, "unsettled": 3}, duration_s=20,
                   peak_rss_bytes=1, thresholds=Thresholds(max_failures=2, p95_ms=1000, require_settled=False),
                   extra={"parameters": {"agents": 3}})
    assert (report["passed"], report["reasons"], report["parameters"]) == (True, [], {"agents": 3})


def test_a_run_that_could_not_deliver_the_requested_arrival_rate_does_not_pass() -> None:
    def reasons(started: int) -> list[str]:
        counts = {**SETTLED, "started": started, "completed": started - 1}
        return build(stats_csv=STATS.replace(",2,", ",0,"), failures_csv="", counts=counts, duration_s=40,
                     peak_rss_bytes=1, thresholds=Thresholds(p95_ms=1000), requested_per_hour=3600,
                     dispatch_seconds=30)["reasons"]

    assert reasons(30) == []  # 30 in 30 s = 3600/hour
    assert reasons(27) == []  # within 90 %
    assert reasons(20) == ["incidents arrived at 2400/hour, short of the requested 3600/hour"]


def test_a_run_that_started_nothing_does_not_pass() -> None:
    report = build(stats_csv=HEADER, failures_csv="", counts={"started": 0}, duration_s=5, peak_rss_bytes=0,
                   thresholds=Thresholds())
    assert report["reasons"] == ["no incident was started, so the run shows nothing about this version"]


def test_the_locust_command_runs_agents_plus_the_dispatcher_headless(tmp_path: Path) -> None:
    plan = locust_run.LoadPlan("http://127.0.0.1:9", "major_incident", 600, 10, 30, 0.8, drain_s=7)
    command = locust_run.command(plan, tmp_path)
    joined = " ".join(command[1:])
    assert joined.startswith(f"-m locust -f {locust_run.LOCUSTFILE} --headless --host http://127.0.0.1:9 -u 11 -r 11 -t 30s")
    assert "--procedure major_incident --incidents-per-hour 600" in joined
    assert f"--csv {tmp_path / 'stats'} --only-summary" in joined and joined.endswith("--drain-seconds 7")
    assert locust_run.LOCUSTFILE.is_file()
