"""The budget of one transition: wall-clock time, CPU time and automatic steps, the state size and task data.

A model can make SpiffWorkflow work without end (a call activity that calls itself, a repeating timer of
zero length) or grow the state without end (a big value copied into every task). The engine's run in one
request or scheduler tick is metered; past any budget the transition stops, the incident goes to `error`
naming the budget, and the transaction that holds the incident's row lock ends promptly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Budgets:
    """Limits of one transition (TRANSITION_WALL_MS, TRANSITION_CPU_MS, AUTOMATIC_STEP_CAP, MAX_STATE_BYTES,
    MAX_TASK_DATA_BYTES). Normal transitions take a few milliseconds, tens of steps and a few KB of state."""

    # The engine's run does no I/O and never sleeps, so a model spends wall time only by spending CPU: the CPU
    # budget is the one a runaway model meets (2 s: a normal start of a bundled procedure measured up to
    # 587 ms in a loaded CI run, so 500 ms sent normal starts to error), whatever the load; the wall budget is the backstop for a
    # starved machine (a cold first step of a business-day clock takes 50 ms of CPU, many times that in wall
    # time on a loaded 2-core machine).
    wall_seconds: float = 10.0
    cpu_seconds: float = 2.0
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
        self._wall = time.monotonic() + budgets.wall_seconds
        self._cpu = time.thread_time() + budgets.cpu_seconds

    def step(self) -> None:
        self.steps += 1
        if self.steps > self.budgets.automatic_steps:
            raise BudgetExceeded("steps", f"step budget exceeded: more than {self.budgets.automatic_steps} "
                                          "automatic steps in one transition (AUTOMATIC_STEP_CAP); the procedure "
                                          "loops or repeats without waiting for a person")
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self._wall:
            raise BudgetExceeded("wall_time", f"time budget exceeded: the engine ran longer than "
                                              f"{self.budgets.wall_seconds * 1000:.0f} ms in one transition "
                                              f"(TRANSITION_WALL_MS) after {self.steps} automatic steps")
        if time.thread_time() > self._cpu:
            raise BudgetExceeded("cpu_time", f"CPU budget exceeded: the engine used more than "
                                             f"{self.budgets.cpu_seconds * 1000:.0f} ms of CPU in one transition "
                                             f"(TRANSITION_CPU_MS) after {self.steps} automatic steps")

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
