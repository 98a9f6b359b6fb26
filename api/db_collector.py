"""Gauges read from the database at scrape time: open tasks by lane, outbox backlog, timer lag, incidents.

Open tasks and incidents are those of live incidents (test incidents are never counted by monitoring);
the outbox and timer gauges are the machinery's health and count everything.

Computed by cheap indexed COUNT/GROUP BY queries on each scrape, so every worker reports the same truth
and no multiprocess gauge files are needed.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import false, func, select

from engine import clock
from engine.db.tables import incidents, outbox, tasks
from engine.services.engine_app import IncidentEngine


def _age(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    since = since if since.tzinfo else since.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - since).total_seconds())


class DatabaseCollector(Collector):
    def __init__(self, engine: IncidentEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Any]:
        now = clock.now()
        open_tasks = GaugeMetricFamily("incident_engine_open_tasks", "Tasks ready and not completed",
                                       labels=["procedure", "lane"])
        oldest = GaugeMetricFamily("incident_engine_open_task_oldest_age_seconds",
                                   "Age of the oldest open task", labels=["procedure", "lane"])
        backlog = GaugeMetricFamily("incident_engine_outbox_messages", "Outbox messages not delivered, by status",
                                    labels=["status"])
        outbox_age = GaugeMetricFamily("incident_engine_outbox_oldest_pending_age_seconds",
                                       "Age of the oldest pending outbox message")
        lag = GaugeMetricFamily("incident_engine_timer_lag_seconds",
                                "How long the most overdue timer has been due without firing")
        overdue = GaugeMetricFamily("incident_engine_timers_overdue", "Running incidents with a timer past due")
        running = GaugeMetricFamily("incident_engine_incidents", "Incidents running or in error",
                                    labels=["procedure", "status"])
        with self.engine.uow(write=False) as uow:
            conn = uow.conn
            for key, lane, count, first in conn.execute(
                    select(tasks.c.procedure_key, tasks.c.lane, func.count(), func.min(tasks.c.created_at))
                    .where(tasks.c.state == "ready", tasks.c.test == false())
                    .group_by(tasks.c.procedure_key, tasks.c.lane)).all():
                open_tasks.add_metric([key, lane or ""], count)
                oldest.add_metric([key, lane or ""], _age(now, first))
            pending_since = None
            for status, count, first in conn.execute(
                    select(outbox.c.status, func.count(), func.min(outbox.c.created_at))
                    .where(outbox.c.status != "delivered").group_by(outbox.c.status)).all():
                backlog.add_metric([status], count)
                pending_since = first if status == "pending" else pending_since
            outbox_age.add_metric([], _age(now, pending_since))
            due = (incidents.c.status == "running") & (incidents.c.next_timer_at <= now)
            count, first_due = conn.execute(select(func.count(), func.min(incidents.c.next_timer_at))
                                            .where(due)).one()
            lag.add_metric([], _age(now, first_due))
            overdue.add_metric([], count)
            for key, status, count in conn.execute(
                    select(incidents.c.procedure_key, incidents.c.status, func.count())
                    .where(incidents.c.status.in_(("running", "error")), incidents.c.test == false())
                    .group_by(incidents.c.procedure_key, incidents.c.status)).all():
                running.add_metric([key, status], count)
        yield from (open_tasks, oldest, backlog, outbox_age, lag, overdue, running)
