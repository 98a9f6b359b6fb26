"""Celery tasks: thin triggers of engine services, idempotent, taking ids, retried with backoff and jitter.

Retries cover infrastructure trouble (database or broker unreachable). Business outcomes are not
exceptions here: a failed delivery is recorded on its outbox row and retried by the outbox's own
backoff, and engine errors (a missing row, a conflict) are raised as non-retryable.
"""
from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import InterfaceError, OperationalError

from engine.errors import EngineError
from engine.services import outbox, signals, stall_sweep, timer_starts
from engine.services.retention import erase_expired
from engine.services.test_incidents import purge_expired
from engine.services.timers import fire_due_timers

from .context import engine_for

_MARGIN_SECONDS = 15


class EngineTask(Task):  # type: ignore[misc]
    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 5
    throws = (EngineError,)

    def budget(self) -> float:
        """Seconds this run may spend before its soft time limit, less a margin for the last step."""
        limit = self.soft_time_limit or self.app.conf.task_soft_time_limit or 60
        return max(1.0, float(limit) - _MARGIN_SECONDS)


@shared_task(bind=True, base=EngineTask, name="workers.tick_timers")
def tick_timers(self: EngineTask) -> int:
    """Beat, every TIMER_TICK_SECONDS: fire every due timer (each exactly once, decided by the database)."""
    engine = engine_for(self.app)
    fired = fire_due_timers(engine, budget_seconds=self.budget())
    if fired >= engine.settings.timer_batch:  # a backlog (after an outage): keep going without waiting a tick
        tick_timers.apply_async(expires=3 * engine.settings.timer_tick_seconds)
    return fired


@shared_task(bind=True, base=EngineTask, name="workers.tick_events")
def tick_events(self: EngineTask) -> int:
    """Beat, every TIMER_TICK_SECONDS: fire due timer start events (each firing once, decided by the
    database), then deliver the signals procedures threw, in batches."""
    engine = engine_for(self.app)
    return timer_starts.tick(engine) + signals.deliver_pending(engine)


@shared_task(bind=True, base=EngineTask, name="workers.dispatch_outbox")
def dispatch_outbox(self: EngineTask) -> int:
    """Beat, every TIMER_TICK_SECONDS: queue one delivery task per due outbox row."""
    engine = engine_for(self.app)
    ids = outbox.due_ids(engine)
    expires = 3 * engine.settings.timer_tick_seconds + engine.settings.outbox_timeout_seconds
    for outbox_id in ids:
        deliver_outbox.apply_async((outbox_id,), expires=expires)
    return len(ids)


@shared_task(bind=True, base=EngineTask, name="workers.deliver_outbox")
def deliver_outbox(self: EngineTask, outbox_id: str) -> Any:
    """One delivery attempt of one outbox row, if it is still due (a duplicate message is a no-op)."""
    return outbox.deliver(engine_for(self.app), outbox_id)


@shared_task(bind=True, base=EngineTask, name="workers.purge_test_incidents")
def purge_test_incidents(self: EngineTask) -> int:
    """Beat, every TEST_INCIDENT_PURGE_SECONDS: delete test incidents past TEST_INCIDENT_RETENTION_DAYS."""
    return purge_expired(engine_for(self.app))


@shared_task(bind=True, base=EngineTask, name="workers.erase_expired_personal_data")
def erase_expired_personal_data(self: EngineTask) -> int:
    """Beat, every RETENTION_JOB_SECONDS: erase the personal data of incidents past their retention."""
    return erase_expired(engine_for(self.app))


@shared_task(bind=True, base=EngineTask, name="workers.sweep_stalls")
def sweep_stalls(self: EngineTask) -> int:
    """Beat, every STALL_SWEEP_SECONDS: running incidents that wait on nothing become stalled."""
    return stall_sweep.sweep(engine_for(self.app))
