"""Hostile and broken uploads through the API: refused with problem+json, nothing stored, the server keeps serving."""
from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine.services.engine_app import IncidentEngine
from tests.conftest import admin_test_client, make_settings

from .helpers import FIXTURES

NS = ('xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
      'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
      'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"')
HOSTNAME = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""


def _definitions(body: str, attrs: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {NS} id="Defs" '
            f'targetNamespace="urn:test" {attrs}>\n{body}\n</bpmn:definitions>\n').encode()


def _process(body: str, pid: str = "evil", executable: str = "true") -> str:
    return f'<bpmn:process id="{pid}" isExecutable="{executable}">\n{body}\n</bpmn:process>'


def _condition_model(expression: str) -> bytes:
    return _definitions(_process(f"""
<bpmn:startEvent id="StartEvent_1"/>
<bpmn:userTask id="Task_A" name="A"/>
<bpmn:exclusiveGateway id="Gateway_1" default="Flow_Default"/>
<bpmn:endEvent id="End_1"/><bpmn:endEvent id="End_2"/>
<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_A"/>
<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="Gateway_1"/>
<bpmn:sequenceFlow id="Flow_Evil" sourceRef="Gateway_1" targetRef="End_1">
  <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(expression)}</bpmn:conditionExpression>
</bpmn:sequenceFlow>
<bpmn:sequenceFlow id="Flow_Default" sourceRef="Gateway_1" targetRef="End_2"/>"""))


def _timer_model(expression: str) -> bytes:
    return _definitions(_process(f"""
<bpmn:startEvent id="StartEvent_1"/>
<bpmn:userTask id="Task_A" name="A"/>
<bpmn:boundaryEvent id="Timer_Evil" cancelActivity="false" attachedToRef="Task_A">
  <bpmn:timerEventDefinition id="TimerDef_1">
    <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{escape(expression)}</bpmn:timeDuration>
  </bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:endEvent id="End_1"/><bpmn:endEvent id="End_2"/>
<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_A"/>
<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_A" targetRef="End_1"/>
<bpmn:sequenceFlow id="Flow_3" sourceRef="Timer_Evil" targetRef="End_2"/>"""))


def _script_model(expression: str) -> bytes:
    return _definitions(_process(f"""
<bpmn:startEvent id="StartEvent_1"/>
<bpmn:scriptTask id="Script_Evil" name="Compute" scriptFormat="python">
  <bpmn:script>result = {escape(expression)}</bpmn:script>
</bpmn:scriptTask>
<bpmn:userTask id="Task_A" name="A"/>
<bpmn:endEvent id="End_1"/>
<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Script_Evil"/>
<bpmn:sequenceFlow id="Flow_2" sourceRef="Script_Evil" targetRef="Task_A"/>
<bpmn:sequenceFlow id="Flow_3" sourceRef="Task_A" targetRef="End_1"/>"""))


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:process id="xxe" isExecutable="true"><bpmn:documentation>LEAK[&xxe;]</bpmn:documentation>
  <bpmn:startEvent id="S1"/></bpmn:process></bpmn:definitions>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % ext SYSTEM "file:///etc/hostname"> %ext;]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="urn:t">
  <bpmn:process id="pe" isExecutable="true"><bpmn:startEvent id="S1"/></bpmn:process></bpmn:definitions>"""
_LOLS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BILLION_LAUGHS = (f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{_LOLS}]>'
                  f'<bpmn:definitions {NS} id="d" targetNamespace="urn:t">'
                  '<bpmn:process id="lol" isExecutable="true"><bpmn:documentation>&lol9;</bpmn:documentation>'
                  '</bpmn:process></bpmn:definitions>').encode()
QUADRATIC = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "{"x" * 50_000}">]>'
             f'<bpmn:definitions {NS} id="d" targetNamespace="urn:t"><bpmn:process id="q" isExecutable="true">'
             f'<bpmn:documentation>{"&a;" * 20_000}</bpmn:documentation></bpmn:process>'
             '</bpmn:definitions>').encode()
ZEEBE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
         b'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" '
         b'xmlns:modeler="http://camunda.org/schema/modeler/1.0" id="Defs" targetNamespace="urn:t" '
         b'modeler:executionPlatform="Camunda Cloud" modeler:executionPlatformVersion="8.3.0">\n'
         b'<bpmn:process id="zeebe_model" isExecutable="true">\n'
         b'<bpmn:startEvent id="StartEvent_1"/>\n'
         b'<bpmn:serviceTask id="Task_Charge" name="Charge">\n'
         b'  <bpmn:extensionElements><zeebe:taskDefinition type="charge-card"/></bpmn:extensionElements>\n'
         b'</bpmn:serviceTask>\n<bpmn:endEvent id="End_1"/>\n'
         b'<bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_Charge"/>\n'
         b'<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_Charge" targetRef="End_1"/>\n'
         b'</bpmn:process>\n</bpmn:definitions>\n')


def _post(client: Any, data: bytes) -> Any:
    return client.post("/api/v1/procedures", data=data, content_type="application/xml")


def _listing(client: Any) -> list[Any]:
    response = client.get("/api/v1/procedures")
    assert response.status_code == 200
    return sorted((p["key"], p["version"], p["sha256"]) for p in response.get_json()["items"])


@pytest.fixture
def seeded(client):  # type: ignore[no-untyped-def]
    """A client with one good procedure stored, so 'unchanged' is not just 'empty'."""
    good = client.post("/api/v1/procedures", data=(FIXTURES / "simple_flow.bpmn").read_bytes(),
                       content_type="application/xml")
    assert good.status_code == 201
    return client


def _refused(client: Any, response: Any, before: list[Any], status: int = 422) -> dict[str, Any]:
    """The upload was refused with problem+json, nothing was stored and the server still serves."""
    text = response.get_data(as_text=True)
    assert response.status_code == status, text[:2000]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["type"]
    assert "Traceback" not in text
    assert _listing(client) == before
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"
    return body


def _messages(body: dict[str, Any]) -> str:
    return " | ".join(e["message"] for e in body.get("errors", []))


@pytest.mark.parametrize("payload", [XXE, PARAMETER_ENTITY, BILLION_LAUGHS, QUADRATIC],
                         ids=["xxe-file", "parameter-entity", "billion-laughs", "quadratic-blowup"])
def test_entities_are_refused_fast_and_leak_nothing(seeded, payload: bytes) -> None:  # type: ignore[no-untyped-def]
    before = _listing(seeded)
    started = time.perf_counter()
    response = _post(seeded, payload)
    assert time.perf_counter() - started < 5
    body = _refused(seeded, response, before)
    assert "DOCTYPE" in _messages(body)
    text = response.get_data(as_text=True)
    if HOSTNAME:
        assert f"LEAK[{HOSTNAME}" not in text
        if len(HOSTNAME) >= 4:
            assert HOSTNAME not in text
    assert "lollol" not in text and "xxxxxxxxxx" not in text


def test_xxe_in_a_multipart_upload_is_refused_too(seeded) -> None:  # type: ignore[no-untyped-def]
    before = _listing(seeded)
    response = seeded.post("/api/v1/procedures", data={"file": (io.BytesIO(XXE), "evil.bpmn")},
                           content_type="multipart/form-data")
    _refused(seeded, response, before)
    if HOSTNAME:
        assert f"LEAK[{HOSTNAME}" not in response.get_data(as_text=True)


@pytest.fixture
def small_cap_client(database_url: str):  # type: ignore[no-untyped-def]
    from api import create_app

    settings = make_settings(database_url, max_upload_bytes=8 * 1024)
    eng = IncidentEngine(settings)
    app = create_app(settings, eng)
    app.testing = True
    yield admin_test_client(app)
    eng.db.dispose()


@pytest.mark.parametrize("extra", [1, 32 * 1024, 200 * 1024], ids=["just-over", "within-framing", "far-over"])
@pytest.mark.parametrize("how", ["raw", "multipart"])
def test_an_upload_over_the_cap_is_413(small_cap_client, extra: int, how: str) -> None:  # type: ignore[no-untyped-def]
    client = small_cap_client
    good = (FIXTURES / "simple_flow.bpmn").read_bytes()
    assert len(good) < 8 * 1024
    assert _post(client, good).status_code == 201  # under the cap: accepted
    before = _listing(client)
    padded = good + b"\n" + b" " * (8 * 1024 - len(good) + extra)
    assert len(padded) > 8 * 1024
    if how == "raw":
        response = _post(client, padded)
    else:
        response = client.post("/api/v1/procedures", data={"file": (io.BytesIO(padded), "big.bpmn")},
                               content_type="multipart/form-data")
    _refused(client, response, before, status=413)


def test_a_truncated_file_reports_line_and_column(seeded) -> None:  # type: ignore[no-untyped-def]
    before = _listing(seeded)
    data = (FIXTURES / "camunda_triage.bpmn").read_bytes()
    body = _refused(seeded, _post(seeded, data[: len(data) // 2]), before)
    assert body["errors"] and all(e["message"] for e in body["errors"])
    first = body["errors"][0]
    assert isinstance(first.get("line"), int) and first["line"] > 1
    assert isinstance(first.get("column"), int) and first["column"] >= 1


@pytest.mark.parametrize(("payload", "expected"), [
    (b"this is not XML at all", None),
    (b"", "empty"),
    (b'<?xml version="1.0"?><invoice xmlns="urn:acme"><total>3</total></invoice>', "not a BPMN 2.0 file"),
    (b'<?xml version="1.0"?><definitions><process id="p" isExecutable="true"/></definitions>',
     "not a BPMN 2.0 file"),
    (_definitions(_process('<bpmn:startEvent id="S1"/>', executable="false")), "no executable process"),
    (_definitions(_process('<bpmn:bogusElement id="X"/>')), None),
], ids=["not-xml", "empty", "foreign-xml", "no-namespace", "no-executable-process", "schema-invalid"])
def test_files_that_are_not_runnable_bpmn_are_422(seeded, payload: bytes, expected: str | None) -> None:  # type: ignore[no-untyped-def]
    before = _listing(seeded)
    body = _refused(seeded, _post(seeded, payload), before)
    assert body["errors"] and all(e["message"] for e in body["errors"])
    if expected:
        assert expected in _messages(body)


def test_a_camunda_8_zeebe_model_is_refused_by_element(seeded) -> None:  # type: ignore[no-untyped-def]
    before = _listing(seeded)
    body = _refused(seeded, _post(seeded, ZEEBE), before)
    text = _messages(body)
    assert "Camunda 8 (Zeebe)" in text and "not supported" in text
    assert any(e.get("element_id") == "Task_Charge" for e in body["errors"])


ESCAPES = {
    "import": "${__import__('os').getcwd()}",
    "open": "${open('/etc/passwd')}",
    "subclasses": "${().__class__.__bases__[0].__subclasses__()}",
    "power-tower": "${9**9**9}",
    "huge-string": "${'x'*10**10}",
    "dunder-attribute": "${summary.__class__}",
    "dunder-name": "${__builtins__}",
}
WHERE = {
    "condition": (_condition_model, "Flow_Evil"),
    "timer": (_timer_model, "Timer_Evil"),
    "script": (_script_model, "Script_Evil"),
}


@pytest.mark.parametrize("where", list(WHERE))
@pytest.mark.parametrize("name", list(ESCAPES))
def test_an_escaping_expression_is_refused_naming_the_element(seeded, name: str, where: str) -> None:  # type: ignore[no-untyped-def]
    build, element_id = WHERE[where]
    expression = ESCAPES[name]
    if where == "script":
        expression = expression[2:-1]  # scripts are plain Python-like lines, not ${...}
    before = _listing(seeded)
    started = time.perf_counter()
    response = _post(seeded, build(expression))
    assert time.perf_counter() - started < 5
    body = _refused(seeded, response, before)
    named = [e for e in body["errors"] if e.get("element_id") == element_id]
    assert named, f"no error names {element_id}: {body['errors']}"
    assert all(e["message"] for e in named)
    assert str(Path.cwd()) not in response.get_data(as_text=True)


@pytest.mark.parametrize("where", list(WHERE))
def test_the_same_models_with_a_harmless_expression_are_accepted(client, where: str) -> None:  # type: ignore[no-untyped-def]
    """Control: the refusals above are about the expression, not the model around it."""
    build, _element = WHERE[where]
    expression = {"condition": "${summary == 'x'}", "timer": "PT4H", "script": "len('abc') + 1"}[where]
    response = _post(client, build(expression))
    assert response.status_code == 201, response.get_json()
