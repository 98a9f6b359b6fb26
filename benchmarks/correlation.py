"""Message correlation among many waiting incidents, and a signal to many, on PostgreSQL (a fresh database).

1. N incidents wait for the message `customerCalledBack` (the fixture tests/fixtures/bpmn/events/
   message_waits.bpmn): R real ones started and driven through the service, the rest written as the rows a
   wait leaves (an incident row plus its event_waits and event_wait_keys rows), so the lookup searches N.
   Then: the lookup alone (wait_rows.matching) by reference and by one correlation variable, the full
   correlation (messages.correlate: lookup, lock, deliver, transition, audit, commit) of half the real
   incidents, and the whole request `POST /api/v1/messages` (the app through its WSGI interface: token,
   role check, schema, JSON, the same service) of the other half; each half by reference and by variable:
   median, p95 and worst, and the statements and round trips on the wire (engine.db.wire) per correlation.
2. S incidents wait for the signal `majorIncident` (signal_waits.bpmn), all real; one broadcast reaches
   them in batches of SIGNAL_BATCH (one transaction each): total time, batches, per-incident cost.

    python benchmarks/correlation.py [--waiting 100000] [--real 200] [--signal 1000] [--sql]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN = os.environ.get("INCIDENT_ENGINE_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
EVENTS = ROOT / "tests" / "fixtures" / "bpmn" / "events"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def line(label: str, ms: list[float]) -> str:
    return (f"| {label} | {len(ms)} | {statistics.median(ms):.2f} | {pct(ms, 95):.2f} | {max(ms):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--real", type=int, default=200)
    parser.add_argument("--sql", action="store_true", help="print the statements of one correlation")
    parser.add_argument("--signal", type=int, default=1000)
    args = parser.parse_args()

    from _procs import postgres_cpu  # benchmarks/ is on the path when the script runs

    from api import create_app
    from engine.config import Settings
    from engine.db import wait_rows, wire
    from engine.db.migrate import upgrade
    from engine.db.tables import event_wait_keys, event_waits, incidents
    from engine.events.correlation import key_value
    from engine.identity.tokens import issue_token
    from engine.services import incidents as incident_service
    from engine.services import messages, procedures, signals, tasks
    from engine.services.engine_app import IncidentEngine
    from tests.support.events import activate

    name = f"ie_bench_corr_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = IncidentEngine(Settings(database_url=url, deploy_bundled=False,
                                         jwt_secret="benchmark-secret-for-correlation-0123456789"))
        row, _ = procedures.deploy(engine, (EVENTS / "message_waits.bpmn").read_bytes(), actor="bench")
        activate(engine, row)
        real: list[tuple[str, str]] = []
        for n in range(args.real):
            view, _ = incident_service.start(engine, procedure="message_waits", reference=f"R-{n}",
                                             data={"case_id": f"RC-{n}"}, actor="bench")
            task = next(t for t in view["open_tasks"] if t["element_id"] == "Task_Review")
            tasks.complete(engine, task["id"], {}, actor="bench")
            real.append((f"R-{n}", f"RC-{n}"))
        filler = args.waiting - args.real
        print(f"writing {filler} waiting incidents as rows ...", file=sys.stderr)
        now = datetime.now(UTC)
        chunk = 5000
        with engine.db.begin() as conn:
            next_id = int(conn.execute(text("SELECT coalesce(max(id), 0) FROM event_waits")).scalar() or 0) + 1
            for start in range(0, filler, chunk):
                rows, waits, keys = [], [], []
                for n in range(start, min(filler, start + chunk)):
                    incident_id = str(uuid.uuid4())
                    rows.append({"id": incident_id, "procedure_id": row["id"], "procedure_key": row["key"],
                                 "procedure_version": row["version"], "reference": f"F-{n}", "status": "running",
                                 "data": {"case_id": f"FC-{n}"}, "state": "{}", "row_version": 1,
                                 "created_at": now, "updated_at": now, "created_by": "bench", "test": False})
                    waits.append({"id": next_id, "incident_id": incident_id, "procedure_key": row["key"],
                                  "task_id": str(uuid.uuid4()), "element_id": "Catch_Callback", "kind": "message",
                                  "name": "customerCalledBack", "reference": f"F-{n}", "created_at": now})
                    keys.append({"wait_id": next_id, "name": "case_id", "value": key_value(f"FC-{n}")})
                    next_id += 1
                conn.execute(insert(incidents), rows)
                conn.execute(insert(event_waits), waits)
                conn.execute(insert(event_wait_keys), keys)
            conn.execute(text("SELECT setval(pg_get_serial_sequence('event_waits', 'id'), :v)"), {"v": next_id})
        with engine.db.begin() as conn:
            conn.execute(text("ANALYZE"))  # transactional: committed, as autovacuum's would be
        with engine.db.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM event_waits WHERE name = 'customerCalledBack'")).scalar()
        print(f"\nload average {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} cores at the start of the measures")
        print(f"\n{total} incidents wait for customerCalledBack ({args.real} real, {filler} as rows); "
              f"PostgreSQL, one process, one connection at a time\n")
        print("| measure | n | median ms | p95 ms | worst ms |\n| --- | --- | --- | --- | --- |")
        lookups: dict[str, list[float]] = {"reference": [], "variable": [], "baseline": []}
        with engine.db.connect() as conn:
            ids = [r[0] for r in conn.execute(text("SELECT id FROM incidents LIMIT 1000"))]
            for _ in range(300):
                began = time.perf_counter()
                conn.execute(text("SELECT id FROM incidents WHERE id = :id"), {"id": random.choice(ids)}).all()
                lookups["baseline"].append((time.perf_counter() - began) * 1000)
                n = random.randrange(filler)
                for kind, kw in (("reference", {"reference": f"F-{n}"}),
                                 ("variable", {"keys": {"case_id": key_value(f"FC-{n}")}})):
                    began = time.perf_counter()
                    found = wait_rows.matching(conn, "message", "customerCalledBack", limit=21, **kw)
                    lookups[kind].append((time.perf_counter() - began) * 1000)
                    assert len(found) == 1
        print(line("baseline: one incident row by primary key (the round trip)", lookups["baseline"]))
        print(line("lookup alone, by reference", lookups["reference"]))
        print(line("lookup alone, by one correlation variable", lookups["variable"]))
        full: dict[str, list[float]] = {"reference": [], "variable": []}
        http: dict[str, list[float]] = {"reference": [], "variable": []}
        statements: list[int] = []
        trips: list[int] = []
        app = create_app(engine.settings, engine)
        client = app.test_client()
        token = issue_token(engine.settings, user="bench-integration", roles=["integration"])
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        warm = 10  # the first ones prepare the statements on the pooled connections (as a running server has)
        client_cpu: dict[bool, list[float]] = {False: [], True: []}
        server_cpu: dict[bool, float] = {False: 0.0, True: 0.0}
        for index, (reference, case_id) in enumerate(real):
            kind = "reference" if index % 2 == 0 else "variable"
            kw: dict[str, Any] = {"reference": reference} if kind == "reference" else {"correlation": {"case_id": case_id}}
            through_http = index >= warm + (len(real) - warm) // 2
            pg_before = sum(postgres_cpu(name).values())
            with wire.counting(engine.db) as counted:
                cpu_began = time.process_time()
                began = time.perf_counter()
                if through_http:
                    response = client.post("/api/v1/messages", json={"name": "customerCalledBack",
                                                                     "variables": {"note": "called"}, **kw})
                    took = (time.perf_counter() - began) * 1000
                    cpu = (time.process_time() - cpu_began) * 1000
                    assert response.status_code == 200, response.get_json()
                    result = response.get_json()
                else:
                    result = messages.correlate(engine, name="customerCalledBack", variables={"note": "called"},
                                                actor="bench", **kw)
                    took = (time.perf_counter() - began) * 1000
                    cpu = (time.process_time() - cpu_began) * 1000
            pg_cpu = (sum(postgres_cpu(name).values()) - pg_before) * 1000
            assert result["results"][0]["element_id"] == "Catch_Callback"
            if index < warm:
                continue
            (http if through_http else full)[kind].append(took)
            client_cpu[through_http].append(cpu)
            server_cpu[through_http] += pg_cpu
            statements.append(counted.statements)
            trips.append(counted.round_trips)
            if args.sql and index == warm:
                print("statements of one correlation (Parse or Query, the first time each is sent):\n  "
                      + "\n  ".join(counted.sent), file=sys.stderr)
        print(line("full correlation (deliver + transition + commit), by reference", full["reference"]))
        print(line("full correlation, by one correlation variable", full["variable"]))
        print(line("whole request POST /api/v1/messages, by reference", http["reference"]))
        print(line("whole request POST /api/v1/messages, by one correlation variable", http["variable"]))
        for through_http, label in ((False, "service call"), (True, "whole request")):
            print(f"CPU per correlation, {label} (load-independent, roughly): this process median "
                  f"{statistics.median(client_cpu[through_http]):.2f} ms, PostgreSQL backends mean "
                  f"{server_cpu[through_http] / len(client_cpu[through_http]):.2f} ms")
        base = statistics.median(lookups["baseline"])
        ratio = statistics.median(lookups["variable"]) / base
        print(f"\nlookup by variable / primary-key round trip (medians): {ratio:.1f}")
        whole = statistics.median(http["reference"] + http["variable"])
        print(f"whole request / primary-key round trip (medians): {whole / base:.1f}; whole request / "
              f"lookup by variable: {whole / statistics.median(lookups['variable']):.1f}")
        print(f"on the wire per correlation (BEGIN and COMMIT included; load-independent): statements median "
              f"{statistics.median(statements):g} (min {min(statements)}, max {max(statements)}), round trips "
              f"median {statistics.median(trips):g} (min {min(trips)}, max {max(trips)})")
        with engine.db.connect() as conn:
            for label, kw in (("reference", {"reference": "F-7"}), ("variable", {"keys": {"case_id": key_value("FC-7")}})):
                query = wait_rows.matching_query("message", "customerCalledBack", limit=21, **kw)
                sql = str(query.compile(engine.db, compile_kwargs={"literal_binds": True}))
                plan = conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
                scans = [p.strip() for p in plan if "Scan" in p]
                print(f"plan of the lookup by {label}: " + "; ".join(scans))

        row, _ = procedures.deploy(engine, (EVENTS / "signal_waits.bpmn").read_bytes(), actor="bench")
        activate(engine, row)
        began = time.perf_counter()
        for n in range(args.signal):
            incident_service.start(engine, procedure="signal_waits", reference=f"S-{n}", data={}, actor="bench")
        started_s = time.perf_counter() - began
        began = time.perf_counter()
        result = signals.broadcast(engine, name="majorIncident", variables={"outage": "payments"}, actor="bench")
        took = time.perf_counter() - began
        print(f"\nsignal majorIncident to {args.signal} waiting incidents (started in {started_s:.1f} s): reached "
              f"{result['reached']} in {result['batches']} batches of {result['batch_size']} (one transaction "
              f"each), {took:.2f} s in all, {took / max(1, result['reached']) * 1000:.2f} ms per incident")
        print(f"load average {os.getloadavg()[0]:.2f} (1 min) at the end")
        engine.db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
