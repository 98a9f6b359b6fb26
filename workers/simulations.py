"""Celery tasks of what-if simulations: beat queues the waiting ones, a worker runs each (thin shells)."""
from __future__ import annotations

from celery import shared_task

from engine.services import simulations

from .context import engine_for
from .tasks import EngineTask

TIME_LIMIT_S = 1800


@shared_task(bind=True, base=EngineTask, name="workers.dispatch_simulations")
def dispatch_simulations(self: EngineTask) -> int:
    """Beat, every TIMER_TICK_SECONDS: queue one run per simulation waiting for a runner (a duplicate is a
    no-op: the run takes the row with a conditional update)."""
    ids = simulations.runnable(engine_for(self.app))
    for simulation_id in ids:
        run_simulation.apply_async((simulation_id,), expires=3600)
    return len(ids)


@shared_task(bind=True, base=EngineTask, name="workers.run_simulation", time_limit=TIME_LIMIT_S,
             soft_time_limit=TIME_LIMIT_S - 30)
def run_simulation(self: EngineTask, simulation_id: str) -> str:
    """Run one simulation to the end; its final status."""
    return str(simulations.run(engine_for(self.app), simulation_id)["status"])
