"""What the script tasks of one step assigned, so waiting conditions hear of it (engine.runtime.conditions).

In Camunda 7 a script's `execution.setVariable` is a variable change like any other: conditional events
waiting anywhere in the process instance are evaluated again. Here a (safe Python) script task assigns names
in its task's data; the step notes, for each script task that ran, the names whose values it created or changed,
and the runner hands them to conditions.refresh after the engine steps, as it does with a form's values.
"""
from __future__ import annotations

import copy
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask

_MISSING = object()


class ScriptWrites:
    """Collects the assignments of the script tasks run in one step (`before`/`after` around each task)."""

    def __init__(self) -> None:
        self._before: dict[Any, dict[str, Any]] = {}
        self.written: dict[str, Any] = {}

    def before(self, task: Any) -> None:
        if isinstance(task.task_spec, ScriptTask):
            self._before[task.id] = copy.deepcopy(dict(task.data))

    def after(self, task: Any) -> None:
        before = self._before.pop(task.id, None)
        if before is None:
            return
        for name, value in task.data.items():
            if before.get(name, _MISSING) != value:
                self.written[name] = copy.deepcopy(value)

    def take(self) -> dict[str, Any]:
        """What was written since the last take."""
        written, self.written = self.written, {}
        return written
