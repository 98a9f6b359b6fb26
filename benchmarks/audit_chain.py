"""What the audit hash chain costs per transition, side by side in one run (issue 17).

Whole major_incident test incidents (Log, Triage, stakeholder update, Diagnose, Resolve, Debrief) are driven
through the engine services on a fresh PostgreSQL database, in process (no HTTP), alternating two variants
round by round so both see the same machine:

  chained   engine.db.audit_rows.append as shipped: lock the incident's chain head (one upsert), seal each
            row (HMAC-SHA256 over its fields), insert, move the head
  plain     the append before issue 17: one INSERT of the rows (monkeypatched in for this variant only)

It prints ms per task completion (median and mean over rounds) and chained/plain. The target of issue 17 is
under 10 % more per transition. Figures go to benchmarks/results/audit_chain.json.

Usage: .venv/bin/python benchmarks/audit_chain.py [--rounds 6] [--incidents 15]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _inprocess as ip  # noqa: E402
from sqlalchemy import text  # noqa: E402

from engine import observe  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import audit_rows  # noqa: E402
from engine.db.database import make_engine  # noqa: E402
from engine.db.migrate import upgrade  # noqa: E402
from engine.db.tables import audit  # noqa: E402
from engine.services import incidents, procedures, tasks  # noqa: E402
from engine.services.engine_app import IncidentEngine  # noqa: E402

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1/postgres"
CHAINED = audit_rows.append


def plain_append(conn: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(audit.insert(), rows)
        observe.note_audit(conn, rows)


def drive(engine: IncidentEngine, count: int) -> tuple[float, int]:
    """Run `count` incidents to the end; (seconds spent in task completions, completions)."""
    spent, done = 0.0, 0
    for _ in range(count):
        view, _ = incidents.start(engine, procedure=ip.PROCEDURE, data=dict(ip.START_DATA), test=True)
        while view["open_tasks"]:
            task = view["open_tasks"][0]
            began = time.perf_counter()
            view = tasks.complete(engine, task["id"], ip.form_for(task["element_id"]), actor="bench")
            spent += time.perf_counter() - began
            done += 1
    return spent, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--incidents", type=int, default=15, help="incidents per variant per round")
    args = parser.parse_args()
    name = f"ie_bench_chain_{uuid.uuid4().hex[:8]}"
    admin = make_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        engine = IncidentEngine(Settings(database_url=url, deploy_bundled=False, jwt_secret="b" * 40,
                                         audit_hmac_key="k" * 40))
        procedures.deploy(engine, ip.BPMN_FILE.read_bytes(), actor="bench")
        drive(engine, 3)  # warm the spec cache and the connection pool
        per: dict[str, list[float]] = {"chained": [], "plain": []}
        for rnd in range(args.rounds):
            order = ("chained", "plain") if rnd % 2 == 0 else ("plain", "chained")
            for variant in order:
                audit_rows.append = CHAINED if variant == "chained" else plain_append  # type: ignore[assignment]
                spent, done = drive(engine, args.incidents)
                per[variant].append(1000 * spent / done)
        audit_rows.append = CHAINED  # type: ignore[assignment]
        engine.db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    result = {v: {"median_ms": statistics.median(x), "mean_ms": statistics.mean(x), "rounds": x}
              for v, x in per.items()}
    ratio = result["chained"]["median_ms"] / result["plain"]["median_ms"]
    result["ratio_chained_over_plain"] = ratio
    print(f"ms per task completion, in process on PostgreSQL ({args.rounds} rounds x {args.incidents} incidents "
          f"x {ip.USER_TASKS_PER_INCIDENT} tasks per variant)")
    for variant in ("plain", "chained"):
        r = result[variant]
        print(f"  {variant:8s} median {r['median_ms']:.2f}  mean {r['mean_ms']:.2f}  rounds "
              + " ".join(f"{x:.2f}" for x in r["rounds"]))
    print(f"  chained / plain = {ratio:.3f}  ({(ratio - 1) * 100:+.1f} % per transition; target < +10 %)")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "audit_chain.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
