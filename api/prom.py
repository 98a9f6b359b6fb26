"""The Prometheus counters and histograms the service exports, and the observer that feeds them.

Counters and histograms live in each process; under gunicorn with several workers, set
PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped at start) and prometheus-client writes them to files
that /metrics merges (`incident-engine serve` does both). Gauges read from the database at scrape time
(api/db_collector.py), so they need no multiprocess handling. No Flask here: a worker process can
install the same observer.
"""
from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

from engine import observe

LONG_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200, 604800, float("inf"))

TRANSITIONS = Counter("incident_engine_transitions", "Audited transitions, by procedure and kind",
                      ["procedure", "kind"])
TASK_WAIT = Histogram("incident_engine_task_wait_seconds", "Time a user task waited, ready to claimed "
                      "(ready to completed when never claimed)", ["procedure", "task", "lane"], buckets=LONG_BUCKETS)
TASK_WORK = Histogram("incident_engine_task_work_seconds", "Time a user task was worked, claimed to completed",
                      ["procedure", "task", "lane"], buckets=LONG_BUCKETS)
SLA_BREACHES = Counter("incident_engine_sla_breaches", "SLA timers breached", ["procedure", "timer"])
CHECK_OUTCOMES = Counter("incident_engine_check_outcomes", "Mandatory check results", ["procedure", "check",
                                                                                       "outcome"])
HTTP_LATENCY = Histogram("incident_engine_http_request_duration_seconds", "HTTP request latency",
                         ["method", "endpoint", "status"])
_CHECK_KINDS = {"check_passed": "passed", "check_failed": "failed", "check_overridden": "overridden"}


class PrometheusObserver:
    """Counts what the engine committed."""

    def committed(self, batch: observe.Batch) -> None:
        for row in batch.audit:
            procedure, kind = str(row.get("procedure_key")), str(row.get("kind"))
            TRANSITIONS.labels(procedure, kind).inc()
            raw = row.get("data")
            data: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if kind in _CHECK_KINDS:
                CHECK_OUTCOMES.labels(procedure, str(data.get("check")), _CHECK_KINDS[kind]).inc()
            elif kind == "sla_breached":
                SLA_BREACHES.labels(procedure, str(row.get("element_id") or data.get("element_id"))).inc()
        for timing in batch.tasks:
            labels = (timing.procedure, timing.element_id, timing.lane or "")
            TASK_WAIT.labels(*labels).observe(timing.wait_s)
            if timing.work_s is not None:
                TASK_WORK.labels(*labels).observe(timing.work_s)


OBSERVER = PrometheusObserver()


def install() -> None:
    """Start counting the engine's commits in this process (idempotent)."""
    observe.listen(OBSERVER)
