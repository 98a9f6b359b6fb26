"""Uploading BPMN: hostile XML, files that are not BPMN, process selection, unsafe expressions, good files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.bpmn.parser import build_spec, load_procedure
from engine.bpmn.xmlsafe import parse_xml
from engine.errors import ProcedureInvalid, TooLarge

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn"
NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


def doc(*processes: str, extra: str = "", attrs: str = "") -> bytes:
    body = "\n".join(processes)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="Defs" targetNamespace="urn:t" '
        f"{attrs}>\n{body}\n{extra}\n</bpmn:definitions>\n"
    ).encode()


def process(pid: str = "p", body: str | None = None, executable: str = "true") -> str:
    if body is None:
        body = task_chain('<bpmn:userTask id="Task_A" name="A"/>', "Task_A")
    return f'<bpmn:process id="{pid}" isExecutable="{executable}">\n{body}\n</bpmn:process>'


def task_chain(middle: str, *ids: str) -> str:
    """start -> ids... -> end, with `middle` holding the elements named by ids."""
    chain = ["S", *ids, "E"]
    pairs = enumerate(zip(chain, chain[1:], strict=False))
    flows = "\n".join(f'<bpmn:sequenceFlow id="F{n}" sourceRef="{a}" targetRef="{b}"/>'
                      for n, (a, b) in pairs)
    return f'<bpmn:startEvent id="S"/>\n{middle}\n<bpmn:endEvent id="E"/>\n{flows}'


def problems_of(data: bytes, **kwargs: object) -> list:
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure(data, **kwargs)
    assert caught.value.problems, "ProcedureInvalid must carry at least one problem"
    assert all(p.message for p in caught.value.problems)
    return caught.value.problems


def text_of(problems: list) -> str:
    return " | ".join(p.message for p in problems)


# --- hostile XML ------------------------------------------------------------------------------------
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:process id="p" isExecutable="true"><bpmn:documentation>LEAK[&xxe;]</bpmn:documentation>
  <bpmn:startEvent id="S"/></bpmn:process></bpmn:definitions>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % ext SYSTEM "file:///etc/hostname"> %ext;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>"""
LOLS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (
    f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{LOLS}]><lolz>&lol9;</lolz>'
).encode()
QUADRATIC = (
    f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "{"x" * 50_000}">]><d>' + "&a;" * 20_000 + "</d>"
).encode()


@pytest.mark.parametrize("payload", [XXE, PARAMETER_ENTITY, BILLION_LAUGHS, QUADRATIC],
                         ids=["xxe-file", "parameter-entity", "billion-laughs", "quadratic-blowup"])
def test_any_doctype_is_refused_quickly_and_leaks_nothing(payload: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises((ProcedureInvalid, TooLarge)) as caught:
        load_procedure(payload)
    assert time.perf_counter() - started < 2
    if isinstance(caught.value, ProcedureInvalid):
        assert "DOCTYPE declarations are not allowed" in text_of(caught.value.problems)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "\0"
    everything = caught.value.detail + text_of(caught.value.problems)
    assert f"LEAK[{hostname}" not in everything


@pytest.mark.parametrize("payload", [XXE, PARAMETER_ENTITY, BILLION_LAUGHS, QUADRATIC])
def test_the_parser_itself_refuses_doctypes_and_resolves_nothing(payload: bytes,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.bpmn.xmlsafe as xmlsafe

    monkeypatch.setattr(xmlsafe, "_DOCTYPE_PATTERNS", ())  # no byte scan: the parse itself must refuse
    with pytest.raises(ProcedureInvalid) as caught:
        parse_xml(payload)
    assert "LEAK[" + Path("/etc/hostname").read_text().strip() not in str(caught.value.problems)


def test_doctype_is_refused_in_utf16_too() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'.encode("utf-16")
    with pytest.raises(ProcedureInvalid, match="DOCTYPE"):
        parse_xml(data)


def test_oversized_upload_is_too_large() -> None:
    with pytest.raises(TooLarge):
        load_procedure(doc(process()) + b" " * (2 * 1024 * 1024))
    with pytest.raises(TooLarge):
        load_procedure(doc(process()), max_bytes=100)


def test_truncated_file_reports_line_and_column() -> None:
    data = (FIXTURES / "camunda_triage.bpmn").read_bytes()
    problems = problems_of(data[: len(data) // 2])
    assert problems[0].line and problems[0].column
    assert problems[0].rule == "xml.syntax"


@pytest.mark.parametrize("data", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_empty_body(data: bytes) -> None:
    assert "empty" in text_of(problems_of(data))


def test_plain_text_is_not_xml() -> None:
    problems = problems_of(b"this is not a model, just some words")
    assert problems[0].line == 1 and problems[0].column


def test_xml_that_is_not_bpmn() -> None:
    assert "not a BPMN 2.0 file: root element is html" in text_of(problems_of(b"<html><body/></html>"))
    other = problems_of(b'<definitions xmlns="http://example.com/not-bpmn"/>')
    assert "root element is {http://example.com/not-bpmn}definitions" in text_of(other)


def test_bom_and_latin1_header_are_read() -> None:
    latin = doc(process(body=task_chain('<bpmn:userTask id="T" name="Café"/>', "T"))).decode()
    latin = latin.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert load_procedure(latin).user_task("T").name == "Café"
    assert load_procedure(b"\xef\xbb\xbf" + doc(process())).key == "p"


def test_schema_errors_have_lines() -> None:
    bad = doc(process(body=task_chain('<bpmn:userTask id="T"/><bpmn:userTask id="T"/>', "T")))
    problems = problems_of(bad)
    assert problems[0].rule == "bpmn.schema" and problems[0].line


# --- choosing the process ---------------------------------------------------------------------------
def test_no_executable_process() -> None:
    message = text_of(problems_of(doc(process(executable="false"))))
    assert 'no executable process: set isExecutable="true" on the process to deploy' in message


def test_several_executable_processes_need_a_choice() -> None:
    data = doc(
        process("alpha"),
        process("beta")
        .replace('"Task_A"', '"Task_B"')
        .replace('id="S"', 'id="S2"')
        .replace('id="E"', 'id="E2"')
        .replace('"S"', '"S2"')
        .replace('"E"', '"E2"')
        .replace('id="F', 'id="G'),
    )
    message = text_of(problems_of(data))
    assert "several executable processes: alpha, beta" in message and "`process`" in message
    assert load_procedure(data, process="beta").key == "beta"
    missing = text_of(problems_of(data, process="gamma"))
    assert "gamma" in missing and "alpha, beta" in missing


def test_a_non_executable_process_cannot_be_chosen() -> None:
    data = doc(process("draft", executable="false"))
    assert "not executable" in text_of(problems_of(data, process="draft"))


# --- unsafe expressions -----------------------------------------------------------------------------
def gateway_body(condition: str) -> str:
    return ('<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G" default="Flow_Default"/>'
            '<bpmn:endEvent id="E1"/><bpmn:endEvent id="E2"/>'
            '<bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="G"/>'
            f'<bpmn:sequenceFlow id="Flow_Evil" sourceRef="G" targetRef="E1"><bpmn:conditionExpression '
            f'xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="Flow_Default" sourceRef="G" targetRef="E2"/>')


def test_malicious_condition_names_the_flow() -> None:
    problems = problems_of(doc(process(body=gateway_body("${__import__('os').getcwd()}"))))
    evil = [p for p in problems if p.element_id == "Flow_Evil"]
    assert evil and "condition on flow Flow_Evil" in evil[0].message and evil[0].line


def test_a_safe_condition_is_accepted() -> None:
    definition = load_procedure(doc(process(body=gateway_body("${priority == 'P1'}"))))
    assert definition.flow_between("G", "E1").condition == "${priority == 'P1'}"
    assert definition.flows["Flow_Default"].is_default


def test_malicious_timer() -> None:
    body = task_chain(
        '<bpmn:userTask id="T"/><bpmn:boundaryEvent id="B" attachedToRef="T"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>__import__('os').system('id')</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>",
        "T",
    )
    problems = problems_of(doc(process(body=body)))
    assert any(p.element_id == "B" and p.message.startswith("timer on B") for p in problems)


def test_malicious_script() -> None:
    body = task_chain('<bpmn:scriptTask id="Script_1" scriptFormat="python"><bpmn:script>import os\n'
                      "x = os.getcwd()</bpmn:script></bpmn:scriptTask>", "Script_1")
    problems = problems_of(doc(process(body=body)))
    assert any(p.element_id == "Script_1" and "script of task Script_1" in p.message for p in problems)


def test_malicious_spiff_prescript_and_assignee() -> None:
    body = task_chain('<bpmn:userTask id="T" camunda:assignee="${().__class__}"><bpmn:extensionElements>'
                      "<spiffworkflow:preScript>import os</spiffworkflow:preScript></bpmn:extensionElements>"
                      "</bpmn:userTask>", "T")
    message = text_of(problems_of(doc(process(body=body))))
    assert "spiffworkflow:preScript of T" in message and "camunda:assignee of task T" in message


# --- what this engine does not run ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("element", "expected"),
    [
        ('<bpmn:serviceTask id="X" camunda:class="org.example.Delegate"/>', "Java delegate"),
        ('<bpmn:serviceTask id="X" camunda:delegateExpression="${bean}"/>', "Java delegate"),
        ('<bpmn:serviceTask id="X" camunda:type="external"/>', "without a camunda:topic"),
        ('<bpmn:businessRuleTask id="X"/>', "DMN"),
        ('<bpmn:complexGateway id="X"/>', "complexGateway X is not supported"),
        (
            '<bpmn:scriptTask id="X" scriptFormat="groovy"><bpmn:script>println 1</bpmn:script>'
            "</bpmn:scriptTask>",
            "groovy",
        ),
        ('<bpmn:userTask id="X"><bpmn:extensionElements><camunda:taskListener class="a.B" event="create"/>'
         "</bpmn:extensionElements></bpmn:userTask>", "listeners"),
    ],
)
def test_unsupported_elements(element: str, expected: str) -> None:
    problems = problems_of(doc(process(body=task_chain(element, "X"))))
    assert any(p.element_id == "X" and expected in p.message for p in problems), text_of(problems)
    assert any("not supported" in p.message or "cannot run" in p.message for p in problems)


def test_a_message_start_event_needs_a_message() -> None:
    body = task_chain('<bpmn:userTask id="T"/>', "T").replace(
        '<bpmn:startEvent id="S"/>',
        '<bpmn:startEvent id="S"><bpmn:messageEventDefinition/></bpmn:startEvent>',
    )
    assert "message event S names no message (messageRef)" in text_of(problems_of(doc(process(body=body))))


def test_zeebe_model_is_refused_per_element() -> None:
    data = doc(
        process(
            body=task_chain(
                '<bpmn:serviceTask id="ServiceTask_1"><bpmn:extensionElements>'
                '<zeebe:taskDefinition type="x"/>'
                "</bpmn:extensionElements></bpmn:serviceTask>",
                "ServiceTask_1",
            )
        ),
        attrs='xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"',
    )
    problems = problems_of(data)
    assert problems[0].element_id == "ServiceTask_1"
    assert problems[0].message.startswith(
        "Camunda 8 (Zeebe) model: zeebe:taskDefinition on ServiceTask_1 is not supported by this engine"
    )


def test_spiffworkflow_errors_become_problems() -> None:
    body = ('<bpmn:startEvent id="S"/><bpmn:exclusiveGateway id="G"/><bpmn:endEvent id="E1"/>'
            '<bpmn:endEvent id="E2"/><bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="G"/>'
            '<bpmn:sequenceFlow id="F1" sourceRef="G" targetRef="E1"/>'
            '<bpmn:sequenceFlow id="F2" sourceRef="G" targetRef="E2"/>')
    problems = problems_of(doc(process(body=body)))
    assert problems[0].rule == "bpmn.spiff" and problems[0].element_id in ("F1", "F2") and problems[0].line


def test_unexpected_spiffworkflow_crash_becomes_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.bpmn.parser as parser_module

    class Exploding:
        def add_bpmn_xml(self, *args: object, **kwargs: object) -> None:
            raise KeyError("{http://camunda.org/schema/1.0/bpmn}decisionRef")

    monkeypatch.setattr(parser_module, "_parser_class", lambda: Exploding)
    assert "KeyError" in text_of(problems_of(doc(process())))


# --- good files -------------------------------------------------------------------------------------
def test_camunda_file_with_a_form() -> None:
    definition = load_procedure((FIXTURES / "camunda_triage.bpmn").read_bytes())
    assert definition.key == "incident_triage" and definition.name == "Incident triage"
    assert definition.lanes == ("Agents", "Resolvers")
    assert definition.process_properties == {"objective": "resolve-fast"}
    triage = definition.user_task("Task_Triage")
    assert triage.lane == "Agents" and triage.candidate_groups == ("agents", "supervisors")
    assert triage.candidate_users == ("alice",) and triage.assignee == "${reporter}"
    assert triage.documentation == "Read the report and set the priority."
    fields = {f.id: f for f in triage.form}
    assert [f.type for f in triage.form] == ["string", "enum", "long", "boolean", "date", "double", "string"]
    assert fields["summary"].required and fields["summary"].max_length == 200
    assert fields["priority"].option_ids == ("P1", "P2", "P3") and fields["priority"].default == "P3"
    assert fields["customers_affected"].default == 0 and fields["ticket"].readonly
    gateway = definition.nodes["Gateway_Priority"]
    assert gateway.type == "exclusiveGateway" and gateway.properties == {"check": "priority_set"}
    assert gateway.outgoing == ("Flow_Critical", "Flow_Normal")
    timer = definition.nodes["Timer_Resolve"]
    assert timer.attached_to == "Task_Resolve" and timer.cancel_activity is False
    assert (timer.timer.kind, timer.timer.expression, timer.event_kind) == ("duration", "PT4H", "timer")
    assert definition.nodes["End_Escalated"].event_kind == "escalation"
    assert definition.nodes["Task_Notify"].topic == "page-duty-manager"
    assert "Task_Triage" in definition.spec.task_specs


def test_spiff_arena_file() -> None:
    definition = load_procedure((FIXTURES / "spiff_arena.bpmn").read_bytes())
    record = definition.user_task("Task_Record")
    assert record.form == () and record.documentation == "Write down what the customer says."
    assert record.properties["formJsonSchemaFilename"] == "record-schema.json"
    assert definition.nodes["Task_Record"].pre_script == "attempts = 0"
    assert definition.nodes["Gateway_Check"].properties == {"check": "complaint_logged"}
    assert definition.nodes["Service_Ack"].topic == "crm/SendAcknowledgement"
    assert definition.nodes["End_Stopped"].event_kind == "terminate"


def test_subprocess_call_activity_send_task_and_data_store() -> None:
    inner = ('<bpmn:subProcess id="Sub"><bpmn:startEvent id="SubS"/><bpmn:userTask id="Inner"/>'
             '<bpmn:endEvent id="SubE"/><bpmn:sequenceFlow id="SF1" sourceRef="SubS" targetRef="Inner"/>'
             '<bpmn:sequenceFlow id="SF2" sourceRef="Inner" targetRef="SubE"/></bpmn:subProcess>'
             '<bpmn:callActivity id="Call" calledElement="helper"/>'
             '<bpmn:sendTask id="Notify" camunda:type="external" camunda:topic="notify"/>'
             '<bpmn:dataStoreReference id="StoreRef" dataStoreRef="Store"/>')
    helper = process(
        "helper",
        task_chain('<bpmn:userTask id="Helper_T"/>', "Helper_T")
        .replace('id="S"', 'id="HS"')
        .replace('id="E"', 'id="HE"')
        .replace('"S"', '"HS"')
        .replace('"E"', '"HE"')
        .replace('id="F', 'id="H'),
    )
    data = doc(process("main", task_chain(inner, "Sub", "Call", "Notify")), helper,
               extra='<bpmn:dataStore id="Store" name="CRM"/>')
    definition = load_procedure(data, process="main")
    assert definition.nodes["Inner"].parent == "Sub" and definition.user_task("Inner")
    assert definition.nodes["Helper_T"].parent == "helper" and "helper" in definition.subprocess_specs
    assert definition.nodes["Notify"].topic == "notify"
    assert type(definition.spec.task_specs["Notify"]).__name__ == "ServiceTask"
    assert any(w.element_id == "StoreRef" for w in definition.warnings)
    spec, subprocess_specs = build_spec(data, "main")
    assert set(spec.task_specs) == set(definition.spec.task_specs) and "Sub" in subprocess_specs


def test_call_to_a_process_not_in_the_file_runs_as_a_child_incident() -> None:
    """Since issue 13 a call of another file's process is a child incident; the deployment checks that the
    called process exists (tests/api/test_call_activities_api.py)."""
    data = doc(process(body=task_chain('<bpmn:callActivity id="Call" calledElement="elsewhere"/>', "Call")))
    call = load_procedure(data).nodes["Call"].call
    assert call is not None and (call.key, call.binding) == ("elsewhere", "latest")


def test_a_signal_may_come_from_inside_or_outside_the_incident() -> None:
    signal = '<bpmn:signal id="Sig" name="go"/>'
    catch = ('<bpmn:intermediateCatchEvent id="C"><bpmn:signalEventDefinition signalRef="Sig"/>'
             "</bpmn:intermediateCatchEvent>")
    throw = ('<bpmn:intermediateThrowEvent id="T"><bpmn:signalEventDefinition signalRef="Sig"/>'
             "</bpmn:intermediateThrowEvent>")
    assert load_procedure(doc(process(body=task_chain(catch, "C")), extra=signal)).nodes["C"].event_name == "go"
    definition = load_procedure(doc(process(body=task_chain(throw + catch, "T", "C")), extra=signal))
    assert definition.nodes["C"].event_kind == "signal"
    undeclared = catch.replace('signalRef="Sig"', 'signalRef="Nope"')
    assert "refers to signal 'Nope', which this file does not declare" in text_of(
        problems_of(doc(process(body=task_chain(undeclared, "C")), extra=signal)))


def test_ids_that_spiffworkflow_reserves_still_run() -> None:
    from SpiffWorkflow import TaskState
    from SpiffWorkflow.bpmn import BpmnWorkflow

    body = task_chain('<bpmn:userTask id="End.BoundaryEventSplit"/>', "End.BoundaryEventSplit")
    data = doc(process(body=body.replace('"S"', '"Start"').replace('"E"', '"End"')))
    definition = load_procedure(data)
    assert {"Start", "End", "End.BoundaryEventSplit"} <= set(definition.nodes)
    workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs)
    workflow.do_engine_steps()
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert [t.task_spec.bpmn_id for t in ready] == ["End.BoundaryEventSplit"]
    ready[0].run()
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert build_spec(data, "p")[0].start.outputs[0].bpmn_id == "Start"
