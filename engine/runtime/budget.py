"""The budget of one transition: wall-clock time, CPU time and automatic steps, the state size and task data.

A model can make SpiffWorkflow work without end (a call activity that calls itself, a repeating timer of
zero length) or grow the state without end (a big value copied into every task). The engine's run in one
request or scheduler tick is metered; past any budget the transition stops, the incident goes to `error`
naming the budget, and the transaction that holds the incident's row lock ends promptly.
"""
from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass
from typing import Any

_collector = threading.local()  # per thread: CPU seconds the garbage collector took on this thread


def _on_collection(phase: str, info: dict[str, Any]) -> None:
    # Only full collections: young ones take microseconds but run thousands of times a second under load, and
    # two CPU-clock reads each were ~10 % of the server's GIL time in a profile of the fitness run.
    if info.get("generation") != 2:
        return
    now = time.thread_time()
    if phase == "start":
        _collector.started = now
    else:
        _collector.spent = getattr(_collector, "spent", 0.0) + now - getattr(_collector, "started", now)


gc.callbacks.append(_on_collection)


def _model_cpu() -> float:
    """This thread's CPU time without the collector's pauses: a full collection of a big process (hundreds of
    ms in a long-lived worker) is the process's work, not the transition's."""
    return time.thread_time() - getattr(_collector, "spent", 0.0)


@dataclass(frozen=True)
class Budgets:
    """Limits of one transition (TRANSITION_WALL_MS, TRANSITION_CPU_MS, AUTOMATIC_STEP_CAP, MAX_STATE_BYTES,
    MAX_TASK_DATA_BYTES). Normal transitions take a few milliseconds, tens of steps and a few KB of state."""

    # The engine's run does no I/O and never sleeps, so a model spends wall time only by spending CPU: the CPU
    # budget (500 ms) is the one a runaway model meets, whatever the load; a normal transition of a bundled
    # procedure takes 2-15 ms of CPU (tests/integration/test_transition_cost.py). One-time work is done before
    # the meter starts: the procedure is parsed and compiled when its runtime is built, and the holiday
    # calendar (about 400 ms of CPU to import once per process: the 587 ms "normal start" of an earlier
    # loaded run) is loaded with it (engine.calendar.warm). The wall budget (3 s) is the backstop for a starved
    # machine, six times the CPU budget.
    wall_seconds: float = 3.0
    cpu_seconds: float = 0.5
    automatic_steps: int = 10_000
    state_bytes: int = 1024 * 1024
    task_data_bytes: int = 256 * 1024


class BudgetExceeded(Exception):
    """One budget of the transition ran out; `budget` names it (wall_time, cpu_time, steps, state, task_data)."""

    def __init__(self, budget: str, message: str) -> None:
        super().__init__(message)
        self.budget = budget


class Meter:
    """Counts one transition's steps and time against its budgets; `step()` runs after every automatic step."""

    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets
        self.steps = 0
        now = time.monotonic()
        self._wall = now + budgets.wall_seconds
        self.started_cpu = _model_cpu()
        self._cpu = self.started_cpu + budgets.cpu_seconds
        # A thread's CPU time grows no faster than the wall clock, so the CPU budget cannot run out before
        # the wall clock has moved by what was left of it at the last reading: the CPU clock (a system call,
        # 2 % of the server's GIL time when read after every automatic step) is read only from then on.
        self._cpu_read_after = now + budgets.cpu_seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.budgets.automatic_steps:
            raise BudgetExceeded("steps", f"step budget exceeded: more than {self.budgets.automatic_steps} "
                                          "automatic steps in one transition (AUTOMATIC_STEP_CAP); the procedure "
                                          "loops or repeats without waiting for a person")
        self.check_time()

    def check_time(self) -> None:
        now = time.monotonic()
        if now > self._wall:
            raise BudgetExceeded("wall_time", f"time budget exceeded: the engine ran longer than "
                                              f"{self.budgets.wall_seconds * 1000:.0f} ms in one transition "
                                              f"(TRANSITION_WALL_MS) after {self.steps} automatic steps")
        if now < self._cpu_read_after:
            return
        used = _model_cpu()
        self._cpu_read_after = now + (self._cpu - used)
        if used > self._cpu:
            raise BudgetExceeded("cpu_time", f"CPU budget exceeded: the engine used more than "
                                             f"{self.budgets.cpu_seconds * 1000:.0f} ms of CPU in one transition "
                                             f"(TRANSITION_CPU_MS) after {self.steps} automatic steps")

    def cpu_used(self) -> float:
        """CPU seconds this transition has used so far (collector pauses left out)."""
        return _model_cpu() - self.started_cpu

    def check_state(self, size: int) -> None:
        if size > self.budgets.state_bytes:
            raise BudgetExceeded("state", f"state size budget exceeded: the incident's workflow state would be "
                                          f"{size} bytes, over {self.budgets.state_bytes} (MAX_STATE_BYTES); the "
                                          "procedure keeps too much data in its tasks")

    def check_task_data(self, element_id: str, size: int) -> None:
        if size > self.budgets.task_data_bytes:
            raise BudgetExceeded("task_data", f"task data budget exceeded: task {element_id} would carry {size} "
                                              f"bytes of data, over {self.budgets.task_data_bytes} "
                                              "(MAX_TASK_DATA_BYTES)")
