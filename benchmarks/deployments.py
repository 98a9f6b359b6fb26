"""Deployments, decisions and forms, side by side in one run (issue 13's performance figures).

Prints: (a) a 10-file deployment (4 BPMN, 3 DMN, 3 forms) through the service on SQLite and PostgreSQL,
against one-file BPMN uploads (4 timed, scaled to 10); (b) one evaluation of a 100-rule decision table, against one gateway
condition of the safe expression evaluator; (c) starting an incident whose first step is a business rule
task, or a call activity that starts a child incident, against one whose first step is a user task. Run from the repository root:

    .venv/bin/python benchmarks/deployments.py [--rounds 5] [--pg-admin-url postgresql://postgres@127.0.0.1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "fixtures"


def _files(tag: str) -> list[tuple[str, bytes]]:
    """10 distinct files; `tag` makes every round's bytes new, so nothing is filtered as unchanged."""
    bpmn = (FIX / "bpmn" / "simple_flow.bpmn").read_bytes()
    dmn = (FIX / "deployments" / "priority.dmn").read_bytes()
    form = (FIX / "deployments" / "callback.form").read_bytes()
    out = []
    for i in range(4):
        out.append((f"p{i}.bpmn", bpmn.replace(b'id="simple_flow"', f'id="bench_{i}"'.encode())
                    + f"<!-- {tag} -->".encode()))
    for i in range(3):
        out.append((f"d{i}.dmn", dmn.replace(b'"priority"', f'"priority_{i}"'.encode())
                    .replace(b'"impact_band"', f'"band_{i}"'.encode())
                    .replace(b'"#impact_band"', f'"#band_{i}"'.encode())
                    + f"<!-- {tag} -->".encode()))
    for i in range(3):
        out.append((f"f{i}.form", form.replace(b'"callback_form"', f'"form_{i}"'.encode())
                    .replace(b'"schemaVersion": 17', f'"schemaVersion": 17, "bench": "{tag}"'.encode())))
    return out


def _engine(url: str) -> Any:
    from engine.config import Settings
    from engine.db.migrate import upgrade
    from engine.services.engine_app import IncidentEngine

    upgrade(url)
    return IncidentEngine(Settings(database_url=url, deploy_bundled=False, jwt_secret="bench" * 8,
                                   audit_hmac_key="bench" * 8) if "audit_hmac_key" in Settings.__dataclass_fields__
                          else Settings(database_url=url, deploy_bundled=False, jwt_secret="bench" * 8))


def _deployments(url: str, rounds: int) -> tuple[float, float]:
    from engine.services import deployments, procedures

    engine = _engine(url)
    deployments.deploy_files(engine, _files("warm"))
    together, alone = [], []
    for r in range(rounds):
        files = _files(f"{r}-{uuid.uuid4().hex}")
        started = time.perf_counter()
        deployments.deploy_files(engine, files, name="bench")
        together.append(time.perf_counter() - started)
        singles = [(f"s{i}.bpmn", data.replace(b"bench_", f"single{r}_".encode())) for i, (_, data) in
                   enumerate(_files(f"s{r}-{uuid.uuid4().hex}")[:4])]
        started = time.perf_counter()
        for name, data in singles * 1:
            procedures.deploy(engine, data, filename=name)
        alone.append((time.perf_counter() - started) * 10 / len(singles))
    engine.db.dispose()
    return statistics.median(together), statistics.median(alone)


def _decision_table(n: int) -> Any:
    from engine.decisions.cells import compile_decision
    from engine.decisions.model import Cell, Decision, Output, Rule

    rules = tuple(Rule(f"r{i}", (Cell(f"[{i * 10}..{i * 10 + 9}]"), Cell("-")), (Cell(f'"band {i}"'),))
                  for i in range(n))
    decision = Decision(id="d", name="d", hit_policy="UNIQUE", inputs=(Cell("amount"), Cell("vip")),
                        input_labels=("amount", "vip"), outputs=(Output("band"),), rules=rules)
    compiled, problems = compile_decision(decision)
    assert compiled is not None, problems
    return compiled


def _decisions(repeat: int) -> tuple[float, float]:
    from engine.decisions.evaluate import evaluate
    from engine.expressions import compile_expression

    table = {"d": _decision_table(100)}
    condition = compile_expression('${amount > 500 && vip == true}')
    data = {"amount": 995, "vip": True}
    assert evaluate(table, "d", data).matched == ["r99"]
    started = time.perf_counter()
    for _ in range(repeat):
        evaluate(table, "d", data)
    per_table = (time.perf_counter() - started) / repeat
    started = time.perf_counter()
    for _ in range(repeat):
        condition.evaluate(data)
    return per_table, (time.perf_counter() - started) / repeat


def _starts(url: str, rounds: int) -> tuple[float, float, float]:
    from engine.services import deployments, incidents

    engine = _engine(url)
    deployments.deploy_files(engine, [(p.name, p.read_bytes()) for p in
                                      (FIX / "deployments" / "triage_decision.bpmn",
                                       FIX / "deployments" / "priority.dmn", FIX / "bpmn" / "simple_flow.bpmn",
                                       FIX / "deployments" / "breach.bpmn",
                                       FIX / "deployments" / "notify_regulator.bpmn")])
    timed: dict[str, list[float]] = {"triage_decision": [], "simple_flow": [], "breach": []}
    data = {"customers_affected": 500, "vip": True, "summary": "s", "severity": 1}
    for r in range(rounds * 10):
        for key in timed:
            started = time.perf_counter()
            incidents.start(engine, procedure=key, data={**data, "ref": uuid.uuid4().hex}, test=True,
                            reference=f"b-{r}-{key}-{uuid.uuid4().hex[:6]}")
            if r >= 2:
                timed[key].append(time.perf_counter() - started)
    engine.db.dispose()
    return tuple(statistics.median(timed[k]) for k in ("triage_decision", "simple_flow", "breach"))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    import psycopg

    name = f"ie_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    pg = args.pg_admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = f"sqlite:///{tmp}/bench.sqlite3"
            print("(a) deployment of 10 files (4 BPMN, 3 DMN, 3 forms), median of", args.rounds, "rounds")
            for label, url in (("SQLite", sqlite), ("PostgreSQL", pg)):
                together, alone = _deployments(url, args.rounds)
                print(f"    {label:<10} one deployment of 10: {together * 1000:7.1f} ms   "
                      f"10 one-file uploads: {alone * 1000:7.1f} ms   ratio {together / alone:4.2f}   "
                      f"target < 1000 ms: {'ok' if together < 1 else 'MISSED'}")
            per_table, per_condition = _decisions(2000)
            print("(b) 100-rule decision table (UNIQUE, last rule matches), mean of 2000")
            print(f"    table: {per_table * 1e6:7.1f} µs   one gateway condition: {per_condition * 1e6:6.1f} µs   "
                  f"ratio {per_table / per_condition:5.1f}   target < 1000 µs: {'ok' if per_table < 1e-3 else 'MISSED'}")
            print("(c) start an incident (PostgreSQL, test incidents, median)")
            decided, plain, called = _starts(pg, args.rounds)
            print(f"    first step a user task: {plain * 1000:6.1f} ms   a business rule task: {decided * 1000:6.1f} ms"
                  f" (ratio {decided / plain:4.2f})   a call activity starting a child incident: "
                  f"{called * 1000:6.1f} ms (ratio {called / plain:4.2f}; target <= 2: "
                  f"{'ok' if called / plain <= 2 else 'MISSED'})")
    finally:
        with psycopg.connect(args.pg_admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
