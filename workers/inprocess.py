"""The embedded default without a broker: daemon threads in one process fire timers, deliver the outbox,
run what-if simulations and purge expired test incidents.

Single-machine only: `incident-engine serve` starts it in each web worker process (after the fork, so no
database connection crosses a process) when CELERY_BROKER_URL is unset (or SCHEDULER is `inprocess`). It calls the same engine services as the Celery tasks, so correctness still comes from
the database (a second scheduler by mistake fires nothing twice); what it lacks is scale and isolation:
a slow webhook delays other deliveries, and the work stops when the process stops (and resumes, from the
database, when it starts again).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from engine.config import Settings
from engine.services import outbox, signals, simulations, stall_sweep, timer_starts
from engine.services.engine_app import IncidentEngine
from engine.services.retention import erase_expired
from engine.services.test_incidents import purge_expired
from engine.services.timers import fire_due_timers

log = logging.getLogger("incident_engine.scheduler")


class InProcessScheduler:
    """Ticks every `tick_seconds` (default TIMER_TICK_SECONDS) until `stop()`."""

    def __init__(self, settings: Settings, engine: IncidentEngine | None = None,
                 tick_seconds: float | None = None) -> None:
        self.engine = engine or IncidentEngine(settings)
        self.tick_seconds = tick_seconds or settings.timer_tick_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> InProcessScheduler:
        purge_every = self.engine.settings.test_incident_purge_seconds
        for name, work, every in (("timers", self.tick_timers, self.tick_seconds),
                                  ("outbox", self.tick_outbox, self.tick_seconds),
                                  ("simulations", self.tick_simulations, self.tick_seconds),
                                  ("test-incidents", self.purge_test_incidents, purge_every),
                                  ("retention", self.erase_expired_personal_data,
                                   self.engine.settings.retention_job_seconds),
                                  ("stalls", self.sweep_stalls, self.engine.settings.stall_sweep_seconds)):
            thread = threading.Thread(target=self._loop, args=(name, work, every), name=f"incident-engine-{name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("in-process scheduler started (tick %.1f s; single machine only)", self.tick_seconds)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop ticking; wait at most `timeout` seconds in all for a tick in progress (the threads are daemons,
        and a tick cut short rolls back: its work is still due at the next start)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def tick_timers(self) -> int:
        """Timers of running incidents, then timer start events, then signals thrown by procedures."""
        fired = fire_due_timers(self.engine)
        return fired + timer_starts.tick(self.engine) + signals.deliver_pending(self.engine)

    def tick_simulations(self) -> int:
        """Run a waiting what-if simulation, if any (its own thread, so timers never wait on it)."""
        return simulations.run_queued(self.engine)

    def tick_outbox(self) -> int:
        """Deliver due rows until none is left (a full batch means there may be more)."""
        total = 0
        while not self._stop.is_set():
            done = outbox.deliver_due(self.engine)
            total += done
            if done < self.engine.settings.outbox_batch:
                break
        return total

    def purge_test_incidents(self) -> int:
        return purge_expired(self.engine)

    def sweep_stalls(self) -> int:
        """Running incidents that wait on nothing become stalled (engine.services.stall_sweep)."""
        return stall_sweep.sweep(self.engine)

    def erase_expired_personal_data(self) -> int:
        return erase_expired(self.engine)

    def _loop(self, name: str, work: Callable[[], int], every: float) -> None:
        while not self._stop.is_set():
            try:
                work()
            except Exception:  # noqa: BLE001 - the thread must survive a database outage
                log.exception("in-process %s tick failed; retrying at the next tick", name)
            self._stop.wait(every)
