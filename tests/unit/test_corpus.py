"""Third-party BPMN (OMG MIWG, Camunda 7 examples): accepted, or refused with reasons; never a crash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn.parser import load_procedure
from engine.errors import ProcedureInvalid
from tests.conftest import corpus_dir

pytestmark = pytest.mark.corpus  # deselected with one line when the corpus is absent outside CI
CORPUS: Path | None = corpus_dir() if corpus_dir().is_dir() else None
# miwg/ and camunda-examples/ have a verified expectation per file; camunda-platform-tests/ (399 models
# from the Camunda 7 engine's own tests) is checked file by file below, without per-file expectations.
FILES = sorted(p for d in ("miwg", "camunda-examples") for p in (CORPUS / d).glob("*.bpmn")) if CORPUS else []
PLATFORM = sorted(p for p in (CORPUS / "camunda-platform-tests").glob("*") if p.is_file()) if CORPUS else []


def test_the_corpus_is_there() -> None:
    """An absent corpus fails here rather than silently parametrizing nothing."""
    assert len(FILES) >= 20, "no shared BPMN corpus: CI lays ../shared beside the checkout"

NO_EXECUTABLE = 'no executable process: set isExecutable="true" on the process to deploy'
# file -> fragments that must appear in the problems (all verified by reading the files)
REFUSED = {
    **{f"miwg/{n}.bpmn": [NO_EXECUTABLE]
       for n in ("A.1.0", "A.2.0", "A.2.1", "A.3.0", "A.4.0", "A.4.1", "B.1.0", "B.2.0", "C.2.0", "C.4.0",
                 "C.5.0", "C.6.0", "C.7.0")},
    **{f"miwg/{n}.bpmn": ["Camunda 8 (Zeebe) model", "not supported by this engine"]
       for n in ("C.8.0", "C.8.1", "C.9.0", "C.9.1", "C.9.2")},
    "miwg/C.1.0.bpmn": ["serviceTask archiveInvoice uses camunda:delegateExpression: a Java delegate"],
    "miwg/C.1.1.bpmn": ["serviceTask archiveInvoice uses camunda:delegateExpression: a Java delegate",
                        "condition on flow invoiceApproved (bpmn:getDataObject('approved'))"],
    "miwg/C.3.0.bpmn": ["condition on flow _be893987-caec-4605-b078-bd96b7cd6c12 (Service Level == 'Premium')"],
    "camunda-examples/invoke-rest-service.bpmn": ["Camunda Connect connector"],
    "camunda-examples/job-announcement-publication.bpmn": [
        "serviceTask publish_announcement_website uses camunda:expression: a Java delegate"
    ],
    "camunda-examples/loan-granting.bpmn": ["a script parameter of Task_1lvjtd4 is written in 'javascript'",
                                            "at most once a minute"],  # its ${creditScores} collection runs
    "camunda-examples/order-handling.bpmn": ["timer start event StartEvent_1: '0/5 0/1 * 1/1 * ?' fires every 5 "
                                             "seconds; a timer start event may fire at most once a minute"],
    "camunda-examples/parse-bpmn-process.bpmn": ["camunda:expression: a Java delegate", "'groovy'",
                                                 "camunda:executionListener on endEvent"],
    "camunda-examples/task-form-json-variables.bpmn": ["camunda:class: a Java delegate",
                                                       "method 'numberValue' is not allowed"],
}
# The Camunda examples load once the parts this engine refuses are swapped for supported ones, which
# shows the refusal lists every reason: file -> (regex replacements, key, {user task: (assignee, groups)}).
REPAIRS = {
    "task-form-json-variables.bpmn": (
        [(r'camunda:class="[^"]*"', 'camunda:type="external" camunda:topic="validate-customer"'),
         (r'customer\.prop\("age"\)\.numberValue\(\)', "age")],
        "customerDataProcess",
        {"UserTask_1": ("demo", ()), "UserTask_2": ("demo", ())},
    ),
    "parse-bpmn-process.bpmn": (
        [(r'camunda:expression="[^"]*"', 'camunda:type="external" camunda:topic="set-foo"'),
         (r'scriptFormat="groovy"', 'scriptFormat="python"'),
         (r"println 'hello world'", "greeting = 'hello'"),
         (r"<bpmn2:extensionElements>\s*<camunda:executionListener.*?</bpmn2:extensionElements>", "")],
        "testProcess",
        {"userTaskA": (None, ("management", "accounting")), "userTaskB": ("demo", ())},
    ),
    "loan-granting.bpmn": (
        [(r"<bpmn:extensionElements>\s*<camunda:inputOutput>.*?</bpmn:extensionElements>", ""),
         (r"<bpmn:timerEventDefinition>.*?</bpmn:timerEventDefinition>", ""),
         (r"\$\{creditScores\}", "creditScores")],
        "loan_process",
        {},
    ),
    "order-handling.bpmn": ([(r"<bpmn:timerEventDefinition>.*?</bpmn:timerEventDefinition>", "")],
                            "Order_Process", {}),
    "invoke-rest-service.bpmn": (
        [
            (r"<bpmn2:extensionElements>.*?</bpmn2:extensionElements>", ""),
            (r'<bpmn2:serviceTask id="ServiceTask_1"',
             '<bpmn2:serviceTask id="ServiceTask_1" camunda:type="external" camunda:topic="holiday"'),
        ],
        "holiday",
        {"UserTask_1": (None, ()), "UserTask_2": (None, ())},
    ),
}


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _outcome(data: bytes, process: str | None = None) -> str:
    try:
        definition = load_procedure(data, process=process)
    except ProcedureInvalid as exc:
        assert exc.problems, "a refusal must carry at least one problem"
        assert all(p.message and p.message.strip() for p in exc.problems)
        return " | ".join(p.message for p in exc.problems)
    assert definition.key and definition.spec is not None
    return ""


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_every_file_is_accepted_or_refused_with_reasons(path: Path) -> None:
    data = path.read_bytes()
    messages = _outcome(data)
    for fragment in REFUSED.get(_name(path), []):
        assert fragment in messages, f"{_name(path)}: expected {fragment!r} in {messages!r}"
    root = etree.fromstring(data)
    zeebe = "Camunda 8 (Zeebe)" in messages
    for process in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
        chosen = _outcome(data, process=process.get("id"))  # never anything but a definition or a refusal
        if process.get("isExecutable") != "true" and not zeebe:
            assert f"process '{process.get('id')}' is not executable" in chosen


def test_the_expectations_cover_the_whole_corpus() -> None:
    assert {_name(p) for p in FILES} == set(REFUSED)


def test_the_camunda_platform_models_are_there() -> None:
    assert len(PLATFORM) >= 300


@pytest.mark.parametrize("path", PLATFORM, ids=_name)
def test_every_camunda_platform_model_is_a_definition_or_a_reasoned_refusal(path: Path) -> None:
    _outcome(path.read_bytes())


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_camunda_examples_load_once_the_refused_parts_are_replaced(name: str) -> None:
    replacements, key, tasks = REPAIRS[name]
    assert CORPUS is not None
    text = (CORPUS / "camunda-examples" / name).read_text(encoding="utf-8")
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.S)
        assert count, f"{name}: {pattern} no longer matches"
    definition = load_procedure(text.encode())
    assert definition.key == key
    for task_id, (assignee, groups) in tasks.items():
        task = definition.user_task(task_id)
        assert task is not None and task.assignee == assignee and task.candidate_groups == groups


def test_zeebe_problems_are_one_per_element_and_capped() -> None:
    assert CORPUS is not None
    with pytest.raises(ProcedureInvalid) as caught:
        load_procedure((CORPUS / "miwg" / "C.9.0.bpmn").read_bytes())
    problems = caught.value.problems
    assert len(problems) <= 51
    assert problems[0].message.startswith(
        "Camunda 8 (Zeebe) model: this file was made for Camunda Cloud 8.1.0"
    )
    ids = [p.element_id for p in problems[1:]]
    assert len(ids) == len(set(ids)) and all(p.line for p in problems)
