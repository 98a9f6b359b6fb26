"""SafeScriptEngine inside SpiffWorkflow: gateways, scripts and timers run on the safe evaluator."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser import CamundaParser

from engine import clock
from engine.expressions import ExpressionError
from engine.runtime.script_engine import TIMER_FUNCTIONS, SafeScriptEngine, from_time, script_engine


def bpmn(condition: str = "${priority == 'P1'}", script: str = "x = priority + '!'",
         timer: str = "PT4H") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="defs" targetNamespace="http://example.com/test">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_Intake" name="Intake">
      <bpmn:extensionElements><camunda:formData>
        <camunda:formField id="priority" label="Priority" type="string" />
      </camunda:formData></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_Priority" default="f_default">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f_p1</bpmn:outgoing><bpmn:outgoing>f_default</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:scriptTask id="Script_P1" scriptFormat="python">
      <bpmn:incoming>f_p1</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:scriptTask id="Script_Other" scriptFormat="python">
      <bpmn:incoming>f_default</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>route = 'standard'</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Gateway_Merge">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="Task_Work" name="Work">
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="Timer_Work" attachedToRef="Task_Work">
      <bpmn:outgoing>f7</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{escape(timer)}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="End_Done"><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_Timeout"><bpmn:incoming>f7</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Task_Intake" />
    <bpmn:sequenceFlow id="f2" sourceRef="Task_Intake" targetRef="Gateway_Priority" />
    <bpmn:sequenceFlow id="f_p1" sourceRef="Gateway_Priority" targetRef="Script_P1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_default" sourceRef="Gateway_Priority" targetRef="Script_Other" />
    <bpmn:sequenceFlow id="f3" sourceRef="Script_P1" targetRef="Gateway_Merge" />
    <bpmn:sequenceFlow id="f4" sourceRef="Script_Other" targetRef="Gateway_Merge" />
    <bpmn:sequenceFlow id="f5" sourceRef="Gateway_Merge" targetRef="Task_Work" />
    <bpmn:sequenceFlow id="f6" sourceRef="Task_Work" targetRef="End_Done" />
    <bpmn:sequenceFlow id="f7" sourceRef="Timer_Work" targetRef="End_Timeout" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def start(xml: bytes, engine: SafeScriptEngine | None = None) -> BpmnWorkflow:
    parser = CamundaParser()
    parser.add_bpmn_str(xml)
    wf = BpmnWorkflow(parser.get_spec("proc"), script_engine=engine or SafeScriptEngine())
    wf.do_engine_steps()
    return wf


def submit(wf: BpmnWorkflow, spec_name: str, **data: object) -> None:
    task = wf.get_next_task(state=TaskState.READY, manual=True, spec_name=spec_name)
    assert task is not None, f"{spec_name} is not ready"
    task.data.update(data)
    task.run()
    wf.do_engine_steps()


def test_p1_branch_runs_the_script_and_arms_the_camunda_style_timer() -> None:
    wf = start(bpmn())
    before = datetime.now(UTC)
    submit(wf, "Task_Intake", priority="P1")
    work = wf.get_next_task(state=TaskState.READY, manual=True, spec_name="Task_Work")
    assert work is not None
    assert work.data["x"] == "P1!"
    assert "route" not in work.data
    [pending] = wf.waiting_events()
    assert pending.event_type == "DurationTimerEventDefinition"
    deadline = datetime.fromisoformat(pending.value)
    assert before + timedelta(hours=4) - timedelta(seconds=5) <= deadline <= datetime.now(UTC) + timedelta(hours=4)
    submit(wf, "Task_Work")
    assert wf.is_completed()
    assert wf.data["x"] == "P1!"


def test_default_branch_and_the_timer_firing() -> None:
    wf = start(bpmn())
    submit(wf, "Task_Intake", priority="P3")
    work = wf.get_next_task(state=TaskState.READY, manual=True, spec_name="Task_Work")
    assert work is not None and work.data["route"] == "standard" and "x" not in work.data
    [timer] = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "Timer_Work"]
    timer.internal_data["event_value"] = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    wf.do_engine_steps()  # refresh_timers() marks it fired
    wf.do_engine_steps()  # and this runs its path
    assert wf.is_completed()
    assert [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id
            and t.task_spec.bpmn_id.startswith("End")] == ["End_Timeout"]


def test_missing_form_field_is_none_in_gateway_conditions() -> None:
    wf = start(bpmn(condition="${priority == 'P1' && !empty reason}"))
    submit(wf, "Task_Intake", priority="P1")  # `reason` left empty: absent from the data
    work = wf.get_next_task(state=TaskState.READY, manual=True, spec_name="Task_Work")
    assert work is not None and work.data["route"] == "standard"


def test_a_malicious_gateway_condition_puts_the_gateway_in_error() -> None:
    wf = start(bpmn(condition="__import__('os').getcwd()"))
    with pytest.raises(WorkflowTaskException) as info:
        submit(wf, "Task_Intake", priority="P1")
    # the outermost refused part is reported: the call of .getcwd() (then __import__ would be)
    assert "Error evaluating expression '__import__('os').getcwd()': method 'getcwd' is not allowed" in str(info.value)
    assert info.value.error_type == "ExpressionError"
    [gateway] = [t for t in wf.get_tasks(spec_name="Gateway_Priority")]
    assert gateway.state == TaskState.ERROR


def test_a_script_with_import_is_refused_when_it_runs() -> None:
    wf = start(bpmn(script="x = 1\nimport os"))
    with pytest.raises(WorkflowTaskException) as info:
        submit(wf, "Task_Intake", priority="P1")
    message = str(info.value)
    assert "line 2: import is not allowed" in message
    assert "script tasks may only contain assignments of the form name = expression" in message
    assert info.value.line_number == 2 and info.value.error_line == "import os"
    [script_task] = wf.get_tasks(spec_name="Script_P1")
    assert script_task.state == TaskState.ERROR
    assert "os" not in script_task.data and "x" not in script_task.data


def test_timer_functions() -> None:
    token = clock.use(clock.FixedClock(datetime(2026, 12, 23, 10, 0, tzinfo=UTC)))
    try:
        wf = start(bpmn(timer="${business_days(3)}"))
        task = wf.get_next_task(state=TaskState.READY, manual=True, spec_name="Task_Intake")
        engine = wf.script_engine
        # Wed 23 Dec 2026 10:00 -> Wed 30 Dec 2026 17:00 UTC (Christmas, Boxing Day substitute on Mon 28)
        assert engine.evaluate(task, "${business_days(3)}") == f"PT{7 * 86400 + 7 * 3600}S"
        scotland = SafeScriptEngine(region_country="GB", region_subdivision="SCT")
        assert scotland.evaluate(task, "business_days(0)") == "PT25200S"
        assert engine.evaluate(task, "from_time('2026-12-23T09:00:00Z', 'PT72H')") == f"PT{71 * 3600}S"
        assert engine.evaluate(task, "from_time('2026-12-23T09:00:00', 'PT30M')") == "-PT1800S"  # already past
        assert from_time(datetime(2026, 12, 24, tzinfo=UTC), "P1D") == f"PT{38 * 3600}S"
        assert engine.evaluate(task, "{'P1': 'PT30M', 'P2': 'PT2H'}.get(p, 'PT8H')") == "PT8H"
        with pytest.raises(WorkflowTaskException, match="not an ISO 8601 date-time"):
            engine.evaluate(task, "from_time('yesterday', 'PT1H')")
        with pytest.raises(WorkflowTaskException, match="business_days needs a whole number"):
            engine.evaluate(task, "business_days('3')")
        with pytest.raises(WorkflowTaskException, match="business days must be between"):
            engine.evaluate(task, "business_days(10**9)")
        submit(wf, "Task_Intake", priority="P1")
        [pending] = wf.waiting_events()
        assert pending.value  # the timer was armed from the business_days duration
    finally:
        clock.reset(token)


def test_engine_surface() -> None:
    engine = script_engine(region_subdivision="WLS", functions={"double": lambda n: n * 2})
    assert TIMER_FUNCTIONS <= engine.allowed_functions and "double" in engine.allowed_functions
    engine.validate("double(2) > 3")
    with pytest.raises(ExpressionError, match="function 'open' is not allowed"):
        engine.validate("open('x')")
    with pytest.raises(SyntaxError):  # SpiffWorkflow's DMN engine relies on SyntaxError for `> 5` cells
        engine.validate("> 5")
    # SpiffWorkflow calls engine.environment directly for completion conditions and message correlations
    assert engine.environment.evaluate("a + double(b)", {"a": 1}, {"b": 2}) == 5
    with pytest.raises(ExpressionError):
        engine.environment.evaluate("__import__('os')", {})
    context = {"a": 1}
    assert engine.environment.execute("b = a + 1", context) is True and context == {"a": 1, "b": 2}
    wf = start(bpmn())
    task = wf.get_next_task(state=TaskState.READY, manual=True)
    with pytest.raises(WorkflowTaskException, match="service tasks are run by the engine's outbox"):
        engine.call_service(task, operation_name="notify", operation_params={})
