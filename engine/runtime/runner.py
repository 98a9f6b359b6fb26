"""Runs one step of an incident's workflow (start, complete a task, fire timers, cancel) and reports what changed.

The runner is pure with respect to storage: it takes serialized state in and gives serialized state,
transitions and open tasks out. The service layer persists all of it in one transaction.
"""
from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import implicit
from engine.records.declarations import declared, sift

from . import conditions, error_events, events, io_mapping, prune, scope_end, serializer, timers
from .budget import BudgetExceeded, Budgets, Meter
from .case_file import process_writes, scrub
from .events import AwaitedEvent, ThrownSignal
from .override import rewind_to_check
from .procedure import RuntimeProcedure
from .script_writes import ScriptWrites
from .stall import stuck_reason
from .transitions import Snapshot, Transition, diff_transitions


class IncidentFailed(Exception):
    """The workflow cannot go on (a bad expression, the loop cap, an engine fault); the incident goes to error."""


@dataclass(frozen=True)
class OpenTask:
    id: str
    element_id: str
    name: str | None
    lane: str | None
    data: dict[str, Any]
    due_at: datetime | None = None


@dataclass(frozen=True)
class StartedService:
    task_id: str
    element_id: str
    topic: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class WaitingTimer:
    """A timer the workflow waits on: its SpiffWorkflow task, its BPMN element and its deadline."""

    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class RaisedEvent:
    """A BPMN error or escalation that nothing in this workflow caught (for a call activity's parent)."""

    kind: str  # "error" or "escalation"
    code: str | None
    payload: dict[str, Any]


@dataclass
class Outcome:
    state: str
    status: str  # running, completed, cancelled, or stalled (engine.runtime.stall: `error` says why)
    transitions: list[Transition]
    open_tasks: list[OpenTask]
    services: list[StartedService]
    next_timer_at: datetime | None
    error: str | None = None
    written: dict[str, Any] = field(default_factory=dict)
    timers: list[WaitingTimer] = field(default_factory=list)
    waits: list[AwaitedEvent] = field(default_factory=list)
    signals: list[ThrownSignal] = field(default_factory=list)  # thrown in this step, for the other incidents
    caught_by: str | None = None  # the element that caught a delivered message or signal
    conditions: list[str] = field(default_factory=list)  # elements waiting on a condition (set variables to move)
    # personal values that came in with this step: the workflow got the marker instead (issue #17)
    personal: dict[str, Any] = field(default_factory=dict)
    raised: list[RaisedEvent] = field(default_factory=list)  # uncaught errors/escalations, in order


class Runner:
    """Drives SpiffWorkflow for one procedure version, with our limits applied."""

    def __init__(self, procedure: RuntimeProcedure, script_engine: Any, loop_cap: int = 50,
                 topic_modes: Mapping[str, str] | None = None,
                 pulls: Callable[[str], bool] | None = None, budgets: Budgets | None = None,
                 cycle_cap: int = 1000) -> None:
        self.procedure = procedure
        self.budgets = budgets or Budgets()
        self.cycle_cap = cycle_cap
        self._meter: Meter | None = None
        self.pulls = pulls or (lambda topic: False)
        self.script_engine = script_engine
        self.loop_cap = loop_cap
        self.topic_modes = dict(topic_modes or {})
        # The workflow behind the last state this runner produced: a following step of the same
        # transaction (settling a service task) takes it instead of parsing that state again. One use only.
        self._last: tuple[str, BpmnWorkflow] | None = None
        self.engine: Any = None  # the IncidentEngine that made this runner (call activities start child incidents)
        self.resolve = events.template_resolver(self._evaluate)
        self.personal = declared(procedure.definition).names

    def _sift(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Declared personal values never enter the workflow: it holds the marker, the step carries them."""
        return sift(values, self.personal)

    @staticmethod
    def _carrying(personal: dict[str, Any], outcome: Outcome) -> Outcome:
        outcome.personal = {**personal, **outcome.personal}  # what came in, then what the workflow made
        return outcome

    def _made(self, workflow: BpmnWorkflow, before: Snapshot, meter: Meter) -> tuple[dict[str, Any], dict[str, Any]]:
        """The process-scope variables the workflow itself wrote in this step (engine.runtime.case_file), with
        declared personal ones swapped for the marker (in the workflow too) and carried apart."""
        made = process_writes(workflow, before, self.procedure.node_type)
        if not made:
            return made, {}
        made, personal = self._sift(made)
        if personal:
            scrub(workflow, personal)
        meter.check_task_data("(the case file)", len(json.dumps(made)))
        return made, personal

    def _evaluate(self, expression: str, data: Mapping[str, Any]) -> Any:
        return self.script_engine.environment.evaluate(expression, dict(data))

    def begin(self) -> None:
        """A transition begins: its budgets count from now across every step of it (settled service tasks
        included); without it each step is metered on its own."""
        self._meter = Meter(self.budgets)

    def end(self) -> None:
        """The transition is over: a later step of this runner is metered on its own again."""
        self._meter = None

    def mode_of(self, service: StartedService) -> str:
        """'wait' (the service task completes when its delivery succeeds), 'fire_and_forget', 'external'
        (a camunda:type="external" task that waits for a pull worker to fetch and complete it), or
        'decision' (a business rule task, settled in the same transition by our DMN evaluator)."""
        if self.procedure.node_type(service.element_id) == "businessRuleTask":
            return "decision"
        node = self.procedure.definition.nodes.get(service.element_id)
        if node is not None and node.call is not None:
            return "call"
        if service.topic and self.procedure.is_external(service.element_id) and self.pulls(service.topic):
            return "external"
        return self.topic_modes.get(service.topic or service.element_id, "fire_and_forget")

    def start(self, data: Mapping[str, Any], *, start_event: str | None = None,
              start_kind: str = "message") -> Outcome:
        """Run a new workflow from its plain start event, or from `start_event` (a message, signal or
        timer start event of kind `start_kind`) alone."""
        data, personal = self._sift(data)
        workflow = BpmnWorkflow(self.procedure.spec, self.procedure.subprocess_specs,
                                script_engine=self.script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(copy.deepcopy(dict(data)))

        def act(wf: BpmnWorkflow) -> None:
            if start_event is not None:
                events.begin_at(wf, start_event, start_kind, {})
            if self.procedure.conditional_event_subprocesses and wf.task_tree.state == TaskState.READY:
                wf.task_tree.run()  # what the first engine step does; the scope must be open to start in it

        return self._carrying(personal, self._advance(workflow, Snapshot.empty(), act, dict(data)))

    def deliver(self, state: str, wait: AwaitedEvent, variables: Mapping[str, Any]) -> Outcome:
        """Let one wait catch its message or signal, with `variables` as the event's payload.

        Raises events.NotWaiting when the workflow no longer waits there (another delivery took it).
        """
        variables, personal = self._sift(variables)
        workflow = self.load(state)
        caught: list[str] = []

        def act(wf: BpmnWorkflow) -> None:
            caught.append(events.deliver(wf, wait.task_id, wait.kind, wait.name, copy.deepcopy(dict(variables)),
                                         interrupting=self.procedure.interrupting, resolve=self.resolve))

        outcome = self._advance(workflow, Snapshot.of(workflow), act, dict(variables))
        outcome.caught_by = caught[0] if caught else None
        return self._carrying(personal, outcome)

    def complete(self, state: str, task_id: str, values: Mapping[str, Any]) -> Outcome:
        values, personal = self._sift(values)
        workflow = self.load(state)
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise LookupError(f"task {task_id} is not ready")

        def act(wf: BpmnWorkflow) -> None:
            task.data.update(copy.deepcopy(dict(values)))
            self._script(task, "post_script")
            task.run()

        return self._carrying(personal, self._advance(workflow, Snapshot.of(workflow), act, dict(values)))

    def finish_service(self, state: str, task_id: str, result: Mapping[str, Any],
                       local: Mapping[str, Any] | None = None) -> Outcome:
        """Complete a waiting service task with `result`; `local` values are the activity's own (seen by its
        camunda:outputParameter, gone when it completes: a call activity's camunda:out local="true")."""
        result, personal = self._sift(result)
        workflow = self.load(state)
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.STARTED:
            raise LookupError(f"service task {task_id} is not waiting")

        def act(wf: BpmnWorkflow) -> None:
            task.data.update(copy.deepcopy(dict(result)))
            if local:
                io_mapping.scope_locally(task, copy.deepcopy(dict(self._sift(local)[0])))
            task.complete()

        return self._carrying(personal, self._advance(workflow, Snapshot.of(workflow), act, dict(result)))

    def throw_error(self, state: str, task_id: str, code: str, data: Mapping[str, Any],
                    message: str | None = None) -> Outcome:
        """A waiting service task ends with a BPMN error, caught on Camunda's walk (engine.runtime.error_events):
        its error boundary events, then each enclosing scope's error event subprocesses and boundary events.
        LookupError when the task is not waiting or nothing catches the error."""
        data, personal = self._sift(data)
        workflow = self.load(state)
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.STARTED:
            raise LookupError(f"service task {task_id} is not waiting")

        def act(wf: BpmnWorkflow) -> None:
            task.data.update(copy.deepcopy(dict(data)))
            thrown = error_events.Throw(task, "error", code, code, copy.deepcopy(dict(data)), message)
            if not error_events.throw(wf, thrown, self.procedure.interrupting):
                raise LookupError(f"no error boundary event or error event subprocess catches error code {code!r} "
                                  f"thrown at {task.task_spec.bpmn_id}")

        return self._carrying(personal, self._advance(workflow, Snapshot.of(workflow), act, dict(data)))

    def catch_at_call(self, state: str, task_id: str, kind: str, code: str | None,
                      payload: Mapping[str, Any]) -> Outcome:
        """An error or escalation raised by the child of the waiting call activity `task_id` is thrown at it,
        caught on Camunda's walk (engine.runtime.error_events), with `payload` as the caught variables.
        LookupError when nothing in this workflow catches it (the caller's own parent may)."""
        payload, personal = self._sift(payload)
        workflow = self.load(state)
        task = self._task(workflow, task_id)
        if task is None or task.state != TaskState.STARTED:
            raise LookupError(f"call activity {task_id} is not waiting")

        def act(wf: BpmnWorkflow) -> None:
            thrown = error_events.Throw(task, kind, code, code, copy.deepcopy(dict(payload)))
            if not error_events.throw(wf, thrown, self.procedure.interrupting):
                raise LookupError(f"nothing catches {kind} {code!r} thrown at {task.task_spec.bpmn_id}")

        return self._carrying(personal, self._advance(workflow, Snapshot.of(workflow), act, dict(payload)))

    def set_variables(self, state: str, values: Mapping[str, Any]) -> Outcome:
        """Set variables on the running incident from outside (Camunda's setVariables): every open or waiting
        task sees them, and the conditional events waiting on them are evaluated."""
        values, personal = self._sift(values)
        workflow = self.load(state)
        return self._carrying(personal, self._advance(
            workflow, Snapshot.of(workflow), lambda wf: conditions.spread(wf, copy.deepcopy(dict(values))),
            dict(values)))

    def override_check(self, state: str, gateway_id: str) -> Outcome:
        """Send the incident past a check gateway along its pass flow now, dropping the pending fail path.

        Raises NothingToOverride (a LookupError) when no failed pass of the gateway has work pending.
        """
        workflow = self.load(state)
        cancelled = rewind_to_check(self.procedure, workflow, gateway_id)
        workflow = self.load(serializer.dumps(workflow))  # SpiffWorkflow note 5.3: reload after a reset
        outcome = self._advance(workflow, Snapshot.of(workflow), lambda wf: None, {})
        outcome.transitions[:0] = cancelled
        return outcome

    def fire_timers(self, state: str) -> Outcome:
        workflow = self.load(state)
        return self._advance(workflow, Snapshot.of(workflow), lambda wf: wf.refresh_timers(), {})

    def cancel(self, state: str) -> Outcome:
        workflow = self.load(state)
        before = Snapshot.of(workflow)
        workflow.cancel()
        transitions = diff_transitions(self.procedure, before, workflow)
        workflow.get_events()
        return Outcome(serializer.dumps(workflow), "cancelled", transitions, [], [], None)

    def initial_state(self, data: Mapping[str, Any]) -> str:
        """A fresh workflow that has not run yet (kept when the very first step fails)."""
        workflow = BpmnWorkflow(self.procedure.spec, self.procedure.subprocess_specs,
                                script_engine=self.script_engine)
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(copy.deepcopy(dict(data)))
        return serializer.dumps(workflow)

    def load(self, state: str) -> BpmnWorkflow:
        last, self._last = self._last, None
        if last is not None and last[0] is state:
            return last[1]
        return serializer.loads(state, self.procedure.spec, self.procedure.subprocess_specs, self.script_engine)

    # --- internals -------------------------------------------------------------------------------

    def _script(self, task: Any, which: str) -> None:
        """Run a spiffworkflow:preScript/postScript through the safe script engine (SpiffWorkflow's
        Camunda parser ignores them)."""
        node = self.procedure.definition.nodes.get(task.task_spec.bpmn_id or "")
        script = getattr(node, which, None) if node is not None else None
        if script:
            self.script_engine.execute(task, script)

    def _before_automatic(self, task: Any) -> None:
        # For tasks the engine runs itself, both scripts run just before the task does.
        self._script(task, "pre_script")
        self._script(task, "post_script")

    @staticmethod
    def _task(workflow: BpmnWorkflow, task_id: str) -> Any:
        try:
            return workflow.get_task_from_id(UUID(task_id))
        except (ValueError, SpiffWorkflowException):
            return None

    def _advance(self, workflow: BpmnWorkflow, before: Snapshot, act: Callable[[BpmnWorkflow], None],
                 written: dict[str, Any]) -> Outcome:
        meter = self._meter or Meter(self.budgets)
        guard = _LoopGuard(self.loop_cap, self.procedure, meter, self.cycle_cap)
        scripts = ScriptWrites()

        def will_run(task: Any) -> None:
            self._before_automatic(task)
            scripts.before(task)

        def did_run(task: Any) -> None:
            guard(task)
            scripts.after(task)

        def listen() -> bool:
            """Conditions hear of what scripts assigned, and scopes just entered evaluate theirs (Camunda)."""
            fired = conditions.refresh(workflow, scripts.take(), self.procedure.interrupting)
            if self.procedure.conditional_event_subprocesses:
                fired += conditions.enter(workflow, {}, self.procedure.interrupting)
            return bool(fired)

        try:
            act(workflow)
            conditions.refresh(workflow, written, self.procedure.interrupting)  # as Camunda, when variables are set
            if self.procedure.conditional_event_subprocesses:
                conditions.enter(workflow, written, self.procedure.interrupting)
            self._steps(workflow, will_run, did_run)
            guard.check(workflow)
            # A timer that became due while we worked fires now rather than at the next tick; a plain
            # bpmn:task passes straight through, as in Camunda 7.
            # (one pass over the task dicts, not a walk of the tree: the order does not matter here)
            while listen() or self._pass_through(workflow, guard) or scope_end.close_finished_scopes(workflow) \
                    or any(t.state == TaskState.READY and not t.task_spec.manual for t in _every_task(workflow)):
                meter.check_time()
                self._steps(workflow, will_run, did_run)
                guard.check(workflow)
            for task in [t for t in _every_task(workflow) if t.state == TaskState.READY and t.task_spec.manual]:
                if not task.internal_data.get("pre_script_ran"):
                    self._script(task, "pre_script")
                    task.internal_data["pre_script_ran"] = True
            transitions = diff_transitions(self.procedure, before, workflow)
            made, personal = self._made(workflow, before, meter)
            outcome = self._outcome(workflow, transitions, {**written, **made}, meter)
            outcome.personal = personal
            return outcome
        except (IncidentFailed, LookupError):
            raise
        except BudgetExceeded as err:
            raise IncidentFailed(str(err)) from err
        except RecursionError as err:
            raise IncidentFailed("the workflow's history is too deep for the engine; "
                                 "the procedure loops too often") from err
        except SpiffWorkflowException as err:
            raise IncidentFailed(_describe(err)) from err
        except (TypeError, ValueError, AttributeError) as err:
            # SpiffWorkflow's own faults on odd models (a timer cycle whose expression gives null, ...)
            raise IncidentFailed(f"the engine could not run this step: {type(err).__name__}: {err}") from err

    def _steps(self, workflow: BpmnWorkflow, will_run: Callable[[Any], None], did_run: Callable[[Any], None]) -> None:
        """SpiffWorkflow's engine steps; a task that threw an error or escalation stops them, the throw is caught
        on Camunda's walk (engine.runtime.error_events), and the steps go on."""

        def completed(task: Any) -> None:
            did_run(task)
            if error_events.pending(workflow):
                raise error_events.Thrown()

        while True:
            try:
                workflow.do_engine_steps(will_complete_task=will_run, did_complete_task=completed)
                if not error_events.settle(workflow, self.procedure.interrupting):  # a throw outside the callback
                    return
            except error_events.Thrown:
                error_events.settle(workflow, self.procedure.interrupting)

    def _pass_through(self, workflow: BpmnWorkflow, guard: _LoopGuard) -> bool:
        """Run every ready plain bpmn:task (no type: nothing for a person or a system to do); True if any ran."""
        ran = False
        if not self.procedure.has_plain_tasks:
            return ran
        for task in workflow.get_tasks(state=TaskState.READY, manual=True):
            if self.procedure.passes_through(task.task_spec.bpmn_id):
                self._before_automatic(task)
                task.run()
                guard(task)
                ran = True
        return ran

    def _outcome(self, workflow: BpmnWorkflow, transitions: list[Transition],
                 written: dict[str, Any], meter: Meter | None = None) -> Outcome:
        meter = meter or Meter(self.budgets)
        deadlines_by_parent: dict[Any, list[datetime]] = {}
        due = timers.due_timers(workflow)
        for timer_task, deadline in due:
            deadlines_by_parent.setdefault(timer_task.parent.id if timer_task.parent else None, []).append(deadline)
        open_tasks = []
        services = []
        for t in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):  # one walk, in tree order
            if t.state == TaskState.READY and t.task_spec.manual:
                attached = deadlines_by_parent.get(t.parent.id if t.parent else None, [])
                open_tasks.append(OpenTask(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name, t.task_spec.lane,
                                           dict(t.data), min(attached) if attached else None))
            elif t.state == TaskState.STARTED and t.task_spec.bpmn_id and self.procedure.is_service(t.task_spec.bpmn_id):
                services.append(StartedService(str(t.id), t.task_spec.bpmn_id,
                                               self.procedure.topic_of(t.task_spec.bpmn_id), dict(t.data)))
        deadlines = [deadline for _task, deadline in due]
        status = "completed" if workflow.is_completed() else "running"
        # Events nothing in the workflow caught (a signal for other incidents: the service broadcasts it
        # from `signals`; an error or escalation for a call activity's parent: `raised`) are not kept in the state.
        raised = _raised(workflow.get_events())
        waits = [] if status != "running" else events.awaited_events(workflow, self.resolve)
        waiting_on = [] if status != "running" else conditions.listening(workflow)
        error = None
        if status == "running" and not (open_tasks or services or due or waits or waiting_on):
            error = stuck_reason(workflow)  # one rule with the sweep: stalled, with what is still open
            if error is not None:
                status = "stalled"
        signals = [self._thrown(workflow, tr) for tr in transitions
                   if tr.to_state == "completed" and self.procedure.throws_signal(tr.element_id)]
        prune.prune(workflow)  # everything above read the history it needed; keep the saved state flat
        state = serializer.dumps(workflow)
        meter.check_state(len(state))
        if len(state) > meter.budgets.task_data_bytes:  # else no task's data can be over: it is part of the state
            for open_task in open_tasks:
                meter.check_task_data(open_task.element_id, len(json.dumps(open_task.data, default=str)))
        self._last = (state, workflow)
        return Outcome(
            state=state,
            status=status,
            transitions=transitions,
            open_tasks=open_tasks,
            services=services,
            next_timer_at=min(deadlines) if deadlines else None,
            error=error,
            written=written,
            timers=[WaitingTimer(str(t.id), t.task_spec.bpmn_id, deadline) for t, deadline in due
                    if t.task_spec.bpmn_id],
            waits=waits,
            signals=signals,
            raised=raised,

            conditions=waiting_on,
        )

    def _thrown(self, workflow: BpmnWorkflow, transition: Transition) -> ThrownSignal:
        task = self._task(workflow, transition.task_id)
        data = dict(task.data) if task is not None else {}
        node = self.procedure.definition.nodes[transition.element_id]
        try:
            variables = events.signal_variables(node.event_inputs, data, self._evaluate)
        except Exception as err:  # noqa: BLE001 - a bad camunda:in expression fails the incident, named
            raise IncidentFailed(f"signal {node.event_name!r} thrown at {node.id}: {err}") from err
        return ThrownSignal(self.resolve(node.event_name or "", data), transition.element_id, variables)


# The automatic steps one transition may take are the meter's (AUTOMATIC_STEP_CAP, engine.runtime.budget).
# SpiffWorkflow stops seeing tasks deeper than 1,000 levels (a false "completed"); refuse well before.
MAX_DEPTH = 600


class _LoopGuard:
    """Stops runaway loops: more passes through one element than the cap, or an endless automatic cycle."""

    def __init__(self, cap: int, procedure: RuntimeProcedure, meter: Meter, cycle_cap: int = 1000) -> None:
        self.cap = cap
        self.procedure = procedure
        self.meter = meter
        self.cycle_cap = cycle_cap
        self.passes: dict[str, int] = {}

    def __call__(self, task: Any) -> None:
        self.meter.step()
        # Passes within this transition, so a loop that never returns to do_engine_steps' caller is caught too
        bpmn_id = task.task_spec.bpmn_id
        if bpmn_id:
            passes = self.passes[bpmn_id] = self.passes.get(bpmn_id, 0) + 1
            if passes > self.cap:
                self._enforce(bpmn_id, passes)

    def check(self, workflow: BpmnWorkflow) -> None:
        counts = prune.pruned_passes(workflow)  # passes earlier saves dropped from the tree still count
        for task in workflow.tasks.values():
            if prune.counts_as_pass(task):
                counts[task.task_spec.bpmn_id] = counts.get(task.task_spec.bpmn_id, 0) + 1
        if prune.deeper_than(workflow, MAX_DEPTH):
            raise IncidentFailed("the workflow's history is too deep for the engine; "
                                 "the procedure loops too often (inside a subprocess)")
        if not counts:
            return
        element, passes = max(counts.items(), key=lambda kv: kv[1])
        if passes <= self.cap:
            return
        for element, passes in counts.items():
            if passes > self.cap:
                self._enforce(element, passes)

    def _enforce(self, element: str, passes: int) -> None:
        """Fail when `passes` is over the element's cap: the loop cap, or for the path of a repeating timer
        the timer's repeats (CYCLE_CAP without end) plus the loop cap."""
        cycle_caps = self.procedure.cycle_caps
        if element not in cycle_caps:
            raise IncidentFailed(f"loop cap reached: element {element} was reached {passes} times "
                                 f"(the cap is {self.cap} passes per incident)")
        repeats = cycle_caps[element]
        limit = self.cap + (repeats if repeats is not None else self.cycle_cap)
        if passes > limit:
            raise IncidentFailed(f"cycle cap reached: element {element}, on the path of a repeating timer, was "
                                 f"reached {passes} times (the cap is {limit}: the timer's repeats, or CYCLE_CAP "
                                 f"{self.cycle_cap} when it repeats without end, plus LOOP_CAP)")


def _every_task(workflow: BpmnWorkflow) -> Iterator[Any]:
    """Every task of the workflow and of its subprocesses, in no particular order (cheaper than a tree walk)."""
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _raised(uncaught: list[Any]) -> list[RaisedEvent]:
    from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
        ErrorEventDefinition,
        EscalationEventDefinition,
    )

    out = []
    for event in uncaught:
        definition = event.event_definition
        kind = "error" if isinstance(definition, ErrorEventDefinition) else \
            "escalation" if isinstance(definition, EscalationEventDefinition) else None
        if kind is not None:
            out.append(RaisedEvent(kind, definition.code, dict(event.payload or {})))
    return out


def _describe(err: SpiffWorkflowException) -> str:
    task = getattr(err, "task", None)
    if task is None:
        return str(err)
    if task.task_spec.bpmn_id:
        return f"{err} at {task.task_spec.bpmn_id}"
    after = implicit.origin(task.task_spec.name)  # a generated split: the activity whose flows it takes
    return f"{err} on the outgoing sequence flows of {after}" if after else str(err)
