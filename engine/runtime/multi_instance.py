"""Multi-instance activities as Camunda 7 runs them, on top of SpiffWorkflow's (swapped in by prepare_spec).

What SpiffWorkflow 3.2 leaves out or gets wrong, and what this adds:
- `loopCounter` (0, 1, ...) in each instance, and `nrOfInstances`, `nrOfActiveInstances` and
  `nrOfCompletedInstances` for the completion condition (SpiffWorkflow offers none of them);
- with camunda:collection, SpiffWorkflow writes back only the element variable: the other variables an
  instance sets (a person's form) go up to the activity as Camunda propagates them; the element variable
  and loopCounter stay local to their instance;
- camunda:collection may be any expression (`${order.lines}`, `${[a, b]}`): the parser names a variable of
  the activity's own (`_collection_<id>`), worked out here through the safe evaluator when the activity
  starts and dropped when it completes;
- a loopCardinality that is not a whole number is an error naming the activity: SpiffWorkflow would take
  it for a collection and rewrite the shared spec for every later incident.
"""
from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

LOOP_COUNTER = "loopCounter"


class _CamundaCounters:
    """Mixed into SpiffWorkflow's Camunda multi-instance specs (which define the attributes used here)."""

    cardinality: Any
    condition: Any
    data_input: Any
    data_output: Any
    input_item: Any
    output_item: Any
    bpmn_id: Any

    def _update_hook(self, my_task: Any) -> Any:
        if not my_task.has_state(TaskState.WAITING):
            my_task._inherit_data()  # what SpiffWorkflow's own update does first
            expression = getattr(self, "collection_expression", None)
            if expression is not None and self.data_output is not None:
                value = my_task.workflow.script_engine.evaluate(my_task, expression)
                if not isinstance(value, list | tuple | dict):
                    raise WorkflowTaskException(
                        f"camunda:collection of {self.bpmn_id} ({expression}) gave {type(value).__name__}, not a "
                        "list", task=my_task)
                my_task.data[self.data_output.bpmn_id] = list(value) if isinstance(value, tuple) else value
            if self.cardinality is not None:
                count = my_task.workflow.script_engine.evaluate(my_task, self.cardinality)
                if isinstance(count, bool) or not isinstance(count, int):
                    raise WorkflowTaskException(
                        f"loopCardinality of {self.bpmn_id} gave {count!r}, not a whole number (a list of items "
                        "is camunda:collection with camunda:elementVariable)", task=my_task)
            elif self.data_output is not None:
                name = self.data_output.bpmn_id
                if not isinstance(my_task.data.get(name), list | tuple | dict):
                    raise WorkflowTaskException(
                        f"camunda:collection of {self.bpmn_id} names '{name}', which is "
                        f"{'missing' if name not in my_task.data else 'not a list'} in the task data", task=my_task)
        return super()._update_hook(my_task)  # type: ignore[misc]

    def create_child(self, my_task: Any, item: Any, key_or_index: Any = None) -> None:
        # the instance inherits loopCounter from the activity while it is created, then it is taken back
        my_task.data[LOOP_COUNTER] = len(list(self._instances(my_task)))  # type: ignore[attr-defined]
        try:
            super().create_child(my_task, item, key_or_index)  # type: ignore[misc]
        finally:
            my_task.data.pop(LOOP_COUNTER, None)

    def merge_child(self, workflow: Any, child: Any) -> None:
        my_task = child.parent
        local = {LOOP_COUNTER, *(ref.bpmn_id for ref in (self.input_item, self.output_item, self.data_input,
                                                         self.data_output) if ref is not None)}
        super().merge_child(workflow, child)  # type: ignore[misc]
        if self.data_output is not None:
            for name, value in child.data.items():
                if name not in local:
                    my_task.data[name] = deepcopy(value)
        my_task.data.pop(LOOP_COUNTER, None)

    def _on_complete_hook(self, my_task: Any) -> None:
        if getattr(self, "collection_expression", None) is not None and self.data_output is not None:
            my_task.data.pop(self.data_output.bpmn_id, None)  # the worked-out collection is the activity's own
        super()._on_complete_hook(my_task)  # type: ignore[misc]

    def _counters(self, my_task: Any) -> dict[str, int]:
        instances = list(self._instances(my_task))  # type: ignore[attr-defined]
        completed = len(my_task.internal_data.get("merged", []))
        active = sum(1 for c in instances if not c.has_state(TaskState.FINISHED_MASK))
        total = len(instances)
        if isinstance(self, SequentialMultiInstanceTask):
            if self.data_input is not None and self.data_input.exists(my_task):
                total = len(self.data_input.get(my_task))
            else:
                total = int(my_task.internal_data.get("cardinality") or total)
        return {"nrOfInstances": total, "nrOfActiveInstances": active, "nrOfCompletedInstances": completed}

    def check_completion_condition(self, my_task: Any) -> Any:
        merged = my_task.internal_data.get("merged", [])
        if not merged or self.condition is None:
            return False
        last = next(c for c in my_task.children if str(c.id) == merged[-1])
        return my_task.workflow.script_engine.evaluate(last, self.condition,
                                                       external_context=self._counters(my_task))


class CamundaParallelMultiInstance(_CamundaCounters, ParallelMultiInstanceTask):
    pass


class CamundaSequentialMultiInstance(_CamundaCounters, SequentialMultiInstanceTask):
    pass


SWAPS = {ParallelMultiInstanceTask: CamundaParallelMultiInstance,
         SequentialMultiInstanceTask: CamundaSequentialMultiInstance}
