"""camunda:inputOutput at run time: inputs are local to the activity, outputs are mapped back when it completes.

Hooked onto SpiffWorkflow's own task-spec events when the spec is built, so the runner is untouched:
- inputs, when the task inherits its data (before a subprocess copies it in, before a person sees it):
  each parameter is worked out in order (a later one sees the earlier ones) and set in the task's data;
  what it shadowed is remembered in the task's internal data;
- outputs, when the task completes (before the next task inherits): worked out over everything the
  activity sees, then the inputs are dropped again (a shadowed variable gets its old value back) and the
  outputs set. Variables the activity writes that are not inputs go on, as Camunda propagates them to the
  enclosing scope. An activity that is cancelled (an interrupting boundary event) maps no outputs.
Expressions are strict here: an unknown name is an error naming it, as in Camunda.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from engine.bpmn.io_mapping import IoMapping, Value
from engine.expressions import ExpressionError, compile_expression, compile_script

_PART = re.compile(r"[$#]\{([^{}]*)\}")
_APPLIED = "io_inputs"


def attach(specs: list[Any], mappings: Mapping[str, IoMapping]) -> None:
    """Connect the mapping of each element to its task specs (every process spec of one procedure)."""
    for spec in specs:
        for task_spec in spec.task_specs.values():
            mapping = mappings.get(getattr(task_spec, "bpmn_id", None) or "")
            if mapping is None or task_spec.name.endswith((".BoundaryEventSplit", ".BoundaryEventJoin")) \
                    or isinstance(task_spec, LoopTask):  # a multi-instance activity maps per instance
                continue
            if mapping.inputs:
                task_spec.update_event.connect(_inputs, mapping)
            if mapping.inputs or mapping.outputs:
                task_spec.completed_event.connect(_outputs, mapping)


def _engine(task: Any) -> Any:
    return task.workflow.script_engine


def _expression(task: Any, text: str, data: Mapping[str, Any]) -> Any:
    engine = _engine(task)
    compiled = compile_expression(text, engine.allowed_functions)
    return compiled.evaluate(data, engine.functions, missing_as_none=False)


def value_of(task: Any, value: Value, data: Mapping[str, Any]) -> Any:
    """A parameter's value over `data` (the variables the activity sees)."""
    if value is None:
        return None
    kind = value[0]
    if kind == "text":
        return value[1]
    if kind == "expression":
        return _expression(task, value[1], data)
    if kind == "template":
        return _PART.sub(lambda m: _text(_expression(task, m.group(1), data)), value[1])
    if kind == "list":
        return [value_of(task, item, data) for item in value[1]]
    if kind == "map":
        return {_text(value_of(task, ("template", key) if "{" in key else ("text", key), data)):
                value_of(task, item, data) for key, item in value[1]}
    return _script(task, value[1], data)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _script(task: Any, source: str, data: Mapping[str, Any]) -> Any:
    """A Python script parameter: assignments, then the value on the last line (as a Camunda script
    returns its last statement's value)."""
    engine = _engine(task)
    lines = [line for line in source.strip().splitlines() if line.strip()]
    if not lines:
        return None
    made: dict[str, Any] = {}
    if len(lines) > 1:
        made = compile_script("\n".join(lines[:-1]), engine.allowed_functions).execute(data, engine.functions)
    return _expression(task, lines[-1], {**data, **made})


def _fail(task: Any, what: str, name: str, err: Exception) -> WorkflowTaskException:
    return WorkflowTaskException(f"camunda:{what} '{name}' of {task.task_spec.bpmn_id}: {err}", task=task,
                                 exception=err)


def _inputs(workflow: Any, task: Any, mapping: IoMapping) -> None:
    if _APPLIED in task.internal_data:
        return
    shadowed: dict[str, Any] = {}
    absent: list[str] = []
    for name, value in mapping.inputs:
        try:
            result = value_of(task, value, task.data)
        except ExpressionError as err:
            raise _fail(task, "inputParameter", name, err) from err
        if name in task.data and name not in shadowed and name not in absent:
            shadowed[name] = task.data[name]
        elif name not in task.data and name not in absent:
            absent.append(name)
        task.data[name] = result
    task.internal_data[_APPLIED] = {"shadowed": shadowed, "absent": absent}


def _outputs(workflow: Any, task: Any, mapping: IoMapping) -> None:
    results: dict[str, Any] = {}
    for name, value in mapping.outputs:
        try:
            results[name] = value_of(task, value, task.data)
        except ExpressionError as err:
            raise _fail(task, "outputParameter", name, err) from err
    applied = task.internal_data.get(_APPLIED) or {}
    for name in applied.get("absent", ()):
        task.data.pop(name, None)
    task.data.update(applied.get("shadowed", {}))
    task.data.update(results)


def scope_locally(task: Any, values: Mapping[str, Any]) -> None:
    """Set `values` as the activity's own variables: its camunda:outputParameter see them, and they are
    dropped when it completes (a shadowed variable gets its old value back). Without output parameters
    nothing could read them, so they are not set at all (as a Camunda local variable ends with its scope)."""
    if not task.task_spec.completed_event.is_connected(_outputs):
        return
    applied = task.internal_data.setdefault(_APPLIED, {"shadowed": {}, "absent": []})
    for name, value in values.items():
        if name in task.data and name not in applied["shadowed"] and name not in applied["absent"]:
            applied["shadowed"][name] = task.data[name]
        elif name not in task.data and name not in applied["absent"]:
            applied["absent"].append(name)
        task.data[name] = value
