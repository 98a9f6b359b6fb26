"""Server time of the agent inbox page with 500 ready tasks in the user's queues, beside the JSON queue.

Prints, in one run on the embedded default (SQLite) and on PostgreSQL when it is reachable: the median and
p95 of GET /inbox (HTML, two paged queries plus one incident lookup each) and of GET /api/v1/tasks (JSON,
the same service), measured in-process through Flask's test client (server time only, no network), and
their ratio. The target (issue 18) is an inbox under 200 ms of server time with 500 tasks.

    python benchmarks/web_inbox.py [--tasks 500] [--runs 40] [--no-postgres]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from engine.db.database import make_engine  # noqa: E402
from engine.db.migrate import upgrade  # noqa: E402
from engine.identity.principal import Principal  # noqa: E402
from engine.identity.tokens import issue_token  # noqa: E402
from engine.services import incidents  # noqa: E402
from engine.services.engine_app import IncidentEngine  # noqa: E402
from tests.conftest import PG_ADMIN_URL, make_settings  # noqa: E402
from tests.support.procedures import deploy_active  # noqa: E402

WEB_DESK = ROOT / "tests" / "fixtures" / "bpmn" / "web_desk.bpmn"
AGENT = Principal.of("agent1", ["agent"], ["service-desk"])


def _fill(engine: IncidentEngine, count: int) -> None:
    deploy_active(engine, WEB_DESK)
    for n in range(count):
        incidents.start(engine, procedure="web_desk", reference=f"BENCH-{n}",
                        data={"priority": "P2", "summary": f"bench {n}"}, principal=AGENT)


def _timed(client: Any, path: str, runs: int, headers: dict[str, str] | None = None) -> list[float]:
    for _ in range(3):
        assert client.get(path, headers=headers).status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
    return samples


def _signed_in(app: Any, engine: IncidentEngine) -> Any:
    from engine.identity.keys import web_secret
    from engine.identity.sign_in_links import issue
    from tests.support.web import csrf_of

    client = app.test_client()
    url = issue(web_secret(engine.settings), "http://localhost", user="agent1", roles=["agent"],
                groups=["service-desk"])
    page = client.get(url.removeprefix("http://localhost"))
    token = url.split("token=", 1)[1]
    from urllib.parse import unquote

    assert client.post("/login/link", data={"token": unquote(token), "csrf_token": csrf_of(page.text)}).status_code == 302
    return client


def measure(url: str, tasks: int, runs: int) -> dict[str, float]:
    from api import create_app

    with tempfile.TemporaryDirectory() as scratch:
        engine = IncidentEngine(make_settings(url, instance_dir=Path(scratch)))
        _fill(engine, tasks)
        app = create_app(engine.settings, engine)
        browser = _signed_in(app, engine)
        page = browser.get("/inbox").text
        assert page.count('data-task="') == engine.settings.web_page_size, "the first page is full"
        html = _timed(browser, "/inbox", runs)
        token = issue_token(engine.settings, user="agent1", roles=["agent"], groups=["service-desk"])
        api = _timed(app.test_client(), "/api/v1/tasks?limit=50", runs, {"Authorization": f"Bearer {token}"})
        engine.db.dispose()
    return {"inbox_p50": statistics.median(html), "inbox_p95": statistics.quantiles(html, n=20)[18],
            "api_p50": statistics.median(api), "api_p95": statistics.quantiles(api, n=20)[18]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    targets: list[tuple[str, str, Any]] = []
    scratch = tempfile.mkdtemp()
    sqlite = f"sqlite:///{scratch}/bench.sqlite3"
    upgrade(sqlite)
    targets.append(("sqlite", sqlite, None))
    if not args.no_postgres:
        name = f"ie_bench_web_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            pg = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            upgrade(pg)
            targets.append(("postgresql", pg, (admin, name)))
        except Exception as err:  # noqa: BLE001 - PostgreSQL is optional for this benchmark
            print(f"PostgreSQL skipped: {err}")
    print(f"{args.tasks} ready tasks in agent1's group queue; {args.runs} timed requests each (server time, ms)")
    print(f"{'database':<12}{'inbox p50':>11}{'inbox p95':>11}{'api p50':>10}{'api p95':>10}{'inbox/api':>11}")
    try:
        for label, url, _cleanup in targets:
            f = measure(url, args.tasks, args.runs)
            print(f"{label:<12}{f['inbox_p50']:>11.1f}{f['inbox_p95']:>11.1f}{f['api_p50']:>10.1f}"
                  f"{f['api_p95']:>10.1f}{f['inbox_p50'] / f['api_p50']:>11.2f}")
            print(f"{'':<12}target: inbox p95 under 200 ms: {'met' if f['inbox_p95'] < 200 else 'NOT met'}")
    finally:
        for _label, _url, cleanup in targets:
            if cleanup:
                admin, name = cleanup
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
