"""The isolated database a fitness test runs on, so test incidents never mix with live data.

PostgreSQL live: a new database `fitness_<id>` on the same server (or FITNESS_ADMIN_DATABASE_URL's),
dropped afterwards. SQLite live: a file in the run's work directory, removed with it.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.engine import make_url

from engine.db.database import make_engine
from engine.db.tables import incidents, tasks


def database_name(test_id: str) -> str:
    return "fitness_" + "".join(c for c in test_id if c.isalnum())[:24].lower()


@contextmanager
def isolated_database(live_url: str, test_id: str, work_dir: Path, admin_url: str | None = None) -> Iterator[str]:
    """Yield the URL of an empty database for this test; it is dropped on the way out, whatever happened."""
    live = make_url(live_url)
    if live.get_backend_name() == "sqlite":
        yield f"sqlite:///{work_dir / 'fitness.sqlite3'}"
        return
    admin = make_url(admin_url) if admin_url else live
    name = database_name(test_id)
    server = make_engine(admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT",
                         pool_size=1, max_overflow=0)
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        server.dispose()


def settle_counts(url: str) -> dict[str, Any]:
    """Incidents by status, the running ones waiting only on a timer, the unsettled rest, tasks completed."""
    db = make_engine(url)
    try:
        with db.connect() as conn:
            grouped = conn.execute(select(incidents.c.status, func.count()).group_by(incidents.c.status))
            by_status = {str(status): int(count) for status, count in grouped}
            open_task = exists().where(and_(tasks.c.incident_id == incidents.c.id, tasks.c.state == "ready"))
            on_timer = conn.execute(select(func.count()).select_from(incidents).where(
                incidents.c.status == "running", incidents.c.next_timer_at.is_not(None), ~open_task)).scalar() or 0
            completed_tasks = conn.execute(select(func.count()).select_from(tasks)
                                           .where(tasks.c.state == "completed")).scalar() or 0
    finally:
        db.dispose()
    running = int(by_status.get("running", 0))
    return {"started": int(sum(by_status.values())), "completed": int(by_status.get("completed", 0)),
            "running": running, "waiting_on_timer": int(on_timer), "error": int(by_status.get("error", 0)),
            "cancelled": int(by_status.get("cancelled", 0)),
            "unsettled": running - int(on_timer) + int(by_status.get("error", 0)),
            "tasks_completed": int(completed_tasks)}
