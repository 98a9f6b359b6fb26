"""The supervisor's view of the queues: per lane, how many tasks are open, unclaimed, and the oldest's age."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, select

from engine import clock
from engine.db.tables import tasks
from engine.db.visibility import task_visible
from engine.identity import policy
from engine.identity.principal import Principal

from .engine_app import IncidentEngine

MAX_LANES = 200


def lane_sizes(engine: IncidentEngine, *, principal: Principal | None, now: datetime | None = None,
               test: bool = False) -> list[dict[str, Any]]:
    """Ready tasks the supervisor may see, grouped by lane: open, unclaimed, oldest age (largest lanes first)."""
    policy.require(principal, "tasks.assign")
    visible = policy.visibility(principal)
    query = (select(tasks.c.lane, func.count().label("open"),
                    func.sum(case((tasks.c.assignee.is_(None), 1), else_=0)).label("unclaimed"),
                    func.min(tasks.c.created_at).label("oldest"))
             .where(tasks.c.state == "ready", tasks.c.test.is_(test))
             .group_by(tasks.c.lane).order_by(func.count().desc(), tasks.c.lane).limit(MAX_LANES))
    if visible is not None:
        query = query.where(task_visible(visible))
    now = now or clock.now()
    with engine.uow(write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    found = []
    for r in rows:
        oldest = r["oldest"]
        if isinstance(oldest, str):  # SQLite's MIN over a timestamp column comes back as text
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        found.append({"lane": r["lane"], "open": int(r["open"]), "unclaimed": int(r["unclaimed"] or 0),
                      "oldest_age_seconds": max(0, int((now - oldest).total_seconds())) if oldest else None})
    return found
