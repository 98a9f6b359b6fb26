"""Benchmark: the monitoring queries over a window of 100,000 audit rows on PostgreSQL (a script, not a test).

Creates a fresh database, deploys the major-incident procedure, inserts synthetic incidents whose audit,
task and check rows look like the engine's (about 30 audit rows per incident) inside a 7-day window, the
same again as older history and for another procedure (so the indexes have something to skip), then
times, side by side in one run: a raw COUNT(*) of the window's audit rows, the full metrics computation,
and the recommendations (metrics plus rules). Best and median of several runs, after one warm-up.

    PYTHONPATH=. python benchmarks/monitoring_window.py [--rows 100000] [--admin-url postgresql+psycopg://...]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import Settings  # noqa: E402
from engine.db.database import make_engine  # noqa: E402
from engine.db.migrate import upgrade  # noqa: E402
from engine.db.tables import audit, check_results, incidents, tasks  # noqa: E402
from engine.services import monitoring, procedures  # noqa: E402
from engine.services.engine_app import IncidentEngine  # noqa: E402

SINCE = datetime(2026, 3, 2, tzinfo=UTC)
UNTIL = SINCE + timedelta(days=7)
FLOW = [("Task_LogIncident", "service-desk"), ("Task_Triage", "incident-managers"),
        ("Task_SendStakeholderUpdate", "communications"), ("Task_Diagnose", "resolvers"),
        ("Task_Resolve", "resolvers"), ("Task_Debrief", "incident-managers")]
AUTOMATIC = ("StartEvent_IncidentReported", "Gateway_ParallelSplit", "Task_NotifyStakeholders",
             "Gateway_ParallelJoin", "BoundaryEvent_DiagnosisSla", "EndEvent_IncidentClosed")


class Synth:
    """Rows for one incident at a time, appended to shared lists."""

    def __init__(self, proc: dict[str, Any], rng: random.Random) -> None:
        self.proc, self.rng = proc, rng
        self.incidents: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.audit: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []

    def event(self, inc: dict[str, Any], kind: str, at: datetime, **cols: Any) -> None:
        self.audit.append({"incident_id": inc["id"], "procedure_key": inc["procedure_key"], "procedure_version": 1,
                           "kind": kind, "at": at, "task_id": cols.get("task_id"), "element_id": cols.get("element_id"),
                           "element_name": None, "element_type": cols.get("element_type"),
                           "from_state": cols.get("from_state"), "to_state": cols.get("to_state"),
                           "actor": cols.get("actor"), "data": cols.get("data")})

    def task(self, inc: dict[str, Any], element: str, lane: str, ready: datetime) -> datetime:
        rng = self.rng
        claimed = ready + timedelta(seconds=rng.randint(30, 3600))
        ended = claimed + timedelta(seconds=rng.randint(60, 5400))
        task_id = str(uuid.uuid4())
        self.tasks.append({"id": task_id, "incident_id": inc["id"], "procedure_key": inc["procedure_key"],
                           "element_id": element, "name": element, "lane": lane, "candidate_groups": [lane],
                           "candidate_users": [], "assignee": None, "state": "completed", "form": [],
                           "created_at": ready, "claimed_at": claimed, "ended_at": ended, "ended_by": "agent"})
        for at, frm, to in ((ready, "future", "ready"), (ended, "ready", "completed")):
            self.event(inc, "task", at, task_id=task_id, element_id=element, element_type="userTask",
                       from_state=frm, to_state=to, actor="agent")
        return ended

    def check(self, inc: dict[str, Any], at: datetime, attempt: int, passed: bool) -> None:
        outcome = "passed" if passed else "failed"
        flow = "Flow_TriagePassed" if passed else "Flow_TriageFailed"
        self.checks.append({"incident_id": inc["id"], "procedure_key": inc["procedure_key"], "procedure_version": 1,
                            "check_name": "triage_complete", "gateway_id": "Gateway_TriageCheck",
                            "attempt": attempt, "outcome": outcome, "flow_id": flow, "check_values": {},
                            "actor": "agent", "reason": None, "at": at})
        self.event(inc, "gateway", at, element_id="Gateway_TriageCheck", element_type="exclusiveGateway",
                   to_state="completed", data={"taken": [{"flow": flow, "target": "x", "name": outcome}]})
        self.event(inc, f"check_{outcome}", at, element_id="Gateway_TriageCheck", to_state=outcome,
                   data={"check": "triage_complete", "attempt": attempt, "flow": flow})

    def incident(self, key: str, start: datetime) -> int:
        """One incident's rows; returns how many audit rows it wrote."""
        before = len(self.audit)
        inc = {"id": str(uuid.uuid4()), "procedure_id": self.proc["id"], "procedure_key": key,
               "procedure_version": 1, "reference": None, "status": "completed",
               "data": {"priority": self.rng.choice(["P1", "P2", "P3", "P4"])}, "state": "{}", "row_version": 1,
               "created_at": start, "updated_at": start, "ended_at": None, "created_by": "bench"}
        self.event(inc, "incident_started", start, to_state="running", data=inc["data"])
        now = start
        for element in AUTOMATIC[:2]:
            self.event(inc, "task", now, element_id=element, from_state="future", to_state="completed")
        for n, (element, lane) in enumerate(FLOW):
            now = self.task(inc, element, lane, now)
            if n == 1:
                attempt = 1
                while not (passed := self.rng.random() > 0.25 or attempt > 2):
                    self.check(inc, now, attempt, False)
                    now = self.task(inc, "Task_VerifyCallerIdentity", "service-desk", now)
                    attempt += 1
                self.check(inc, now, attempt, passed)
        for element in AUTOMATIC[2:]:
            self.event(inc, "task", now, element_id=element, from_state="future", to_state="completed")
        if self.rng.random() < 0.1:
            self.event(inc, "sla_breached", now, element_id="BoundaryEvent_DiagnosisSla", to_state="fired",
                       data={"late_by": self.rng.randint(60, 7200)})
        self.event(inc, "incident_completed", now, to_state="completed")
        inc.update(ended_at=now, updated_at=now)
        self.incidents.append(inc)
        return len(self.audit) - before


def populate(engine: IncidentEngine, proc: dict[str, Any], rows: int, rng: random.Random) -> dict[str, int]:
    counts = {"window": 0, "history": 0, "other_procedure": 0}
    for label, key, since in (("window", "major_incident", SINCE), ("history", "major_incident", SINCE - timedelta(days=60)),
                              ("other_procedure", "other_procedure", SINCE)):
        synth = Synth(proc, rng)
        while counts[label] < rows:
            start = since + timedelta(seconds=rng.randint(0, 6 * 86400))
            counts[label] += synth.incident(key, start)
        with engine.db.begin() as conn:
            for table, batch in ((incidents, synth.incidents), (tasks, synth.tasks), (check_results, synth.checks),
                                 (audit, synth.audit)):
                for i in range(0, len(batch), 5000):
                    conn.execute(table.insert(), batch[i:i + 5000])
    with engine.db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))  # what autovacuum does after a bulk load
    return counts


def timed(fn: Any, runs: int) -> tuple[float, float, Any]:
    result = fn()  # warm-up
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - began)
    return min(seconds), statistics.median(seconds), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="audit rows in the window (default 100000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    args = parser.parse_args()
    name = f"ie_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = IncidentEngine(Settings(database_url=url, deploy_bundled=False))
        proc, _ = procedures.deploy(engine, (ROOT / "bpmn" / "major_incident.bpmn").read_bytes())
        began = time.perf_counter()
        counts = populate(engine, proc, args.rows, random.Random(7))
        print(f"inserted audit rows: {counts} in {time.perf_counter() - began:.1f} s")

        def raw_count() -> int:
            with engine.db.connect() as conn:
                return int(conn.execute(text(
                    "SELECT count(*) FROM audit WHERE procedure_key = 'major_incident' AND at >= :s AND at < :u"),
                    {"s": SINCE, "u": UNTIL}).scalar() or 0)

        figures = [
            ("raw COUNT(*) of the window's audit rows", raw_count),
            ("metrics (GET /monitoring/procedures/{key})",
             lambda: monitoring.procedure_metrics(engine, "major_incident", since=SINCE, until=UNTIL)),
            ("metrics filtered priority=P1", lambda: monitoring.procedure_metrics(
                engine, "major_incident", since=SINCE, until=UNTIL, filter={"priority": "P1"})),
            ("recommendations (metrics + rules)",
             lambda: monitoring.recommendations(engine, "major_incident", since=SINCE, until=UNTIL)),
        ]
        print(f"{'query':48} {'best':>9} {'median':>9}")
        for label, fn in figures:
            best, median, result = timed(fn, args.runs)
            extra = f"  ({result} rows)" if isinstance(result, int) else ""
            print(f"{label:48} {best * 1000:8.1f}ms {median * 1000:8.1f}ms{extra}")
        metrics = monitoring.procedure_metrics(engine, "major_incident", since=SINCE, until=UNTIL)
        print(f"window: {metrics['incidents']['started']} incidents started, "
              f"cycle time p50 {metrics['cycle_time']['p50']} s, "
              f"{sum(t['completed'] for t in metrics['tasks'])} tasks completed")
        engine.db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
