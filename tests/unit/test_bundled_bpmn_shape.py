"""Shape checks for the procedures we ship in bpmn/.

Plain lxml + SpiffWorkflow only (no engine code): each bundled file must parse with SpiffWorkflow's
CamundaParser, look like a Camunda Modeler (Camunda 7) file, carry full DI, and follow the house
conventions documented in bpmn/README.md (lanes = candidate groups, inline forms or Camunda Forms deployed
beside the file, default flows, mandatory check gateways on every path to a normal end, no loop without a
check).
"""

from __future__ import annotations

import json
import re
from collections import deque
from itertools import combinations
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.camunda.parser import CamundaParser

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
    "modeler": "http://camunda.org/schema/modeler/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
B = f"{{{NS['bpmn']}}}"

# file key -> what the procedure must declare
PROCEDURES = {
    "major_incident": {
        "checks": {"Gateway_TriageCheck": "triage_complete"},
        "major": True,
        "lanes": {"service-desk", "incident-managers", "resolvers", "communications"},
    },
    "data_breach": {
        "checks": {"Gateway_RiskAssessedCheck": "risk_assessed"},
        "major": False,
        "lanes": {"service-desk", "data-protection"},
    },
    "customer_complaint": {
        "checks": {"Gateway_ContactCheck": "contact_verified"},
        "major": False,
        "lanes": {"complaints", "service-desk"},
    },
    "data_subject_request": {
        "checks": {"Gateway_IdentityCheck": "identity_verified"},
        "major": False,
        "lanes": {"service-desk", "data-protection"},
    },
}
FORM_INPUTS = {"textfield", "textarea", "number", "checkbox", "checklist", "radio", "select", "taglist", "datetime"}

FLOW_NODE_TAGS = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "manualTask",
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
SIZES = {
    "userTask": (100, 80),
    "serviceTask": (100, 80),
    "exclusiveGateway": (50, 50),
    "parallelGateway": (50, 50),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "boundaryEvent": (36, 36),
}
FORBIDDEN = [
    "scriptTask",
    "businessRuleTask",
    "callActivity",
    "messageEventDefinition",
    "sendTask",
    "receiveTask",
]
FIELD_TYPES = {"string", "long", "boolean", "date", "enum"}
KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")

KEYS = sorted(PROCEDURES)


def camunda_forms(key: str) -> dict[str, dict]:
    """The Camunda Forms deployed with `<key>.bpmn` (`<key>.*.form` beside it), by form id."""
    found = {}
    for path in sorted(BPMN_DIR.glob(f"{key}.*.form")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        found[schema["id"]] = schema
    return found


def form_inputs(components: list) -> list[dict]:
    out = []
    for c in components:
        if c.get("type") == "group":
            out += form_inputs(c.get("components", []))
        elif c.get("type") in FORM_INPUTS:
            out.append(c)
    return out


# ----------------------------------------------------------------------------------------- helpers


class Model:
    """The parts of one file that the checks look at."""

    def __init__(self, key: str):
        self.key = key
        self.path = BPMN_DIR / f"{key}.bpmn"
        self.tree = etree.parse(str(self.path), etree.XMLParser(resolve_entities=False, no_network=True))
        self.root = self.tree.getroot()
        procs = self.root.findall(f"{B}process")
        self.executable = [p for p in procs if p.get("isExecutable") == "true"]
        self.process = self.executable[0] if self.executable else procs[0]
        self.nodes = {el.get("id"): el for el in self.process if etree.QName(el).localname in FLOW_NODE_TAGS}
        self.flows = {el.get("id"): el for el in self.process.findall(f"{B}sequenceFlow")}
        self.shapes = {
            s.get("bpmnElement"): s for s in self.root.iterfind(".//bpmndi:BPMNShape", namespaces=NS)
        }
        self.edges = {
            e.get("bpmnElement"): e for e in self.root.iterfind(".//bpmndi:BPMNEdge", namespaces=NS)
        }
        self.lanes = self.process.findall(f"{B}laneSet/{B}lane")
        self.lane_of = {}
        for lane in self.lanes:
            for ref in lane.findall(f"{B}flowNodeRef"):
                self.lane_of[ref.text.strip()] = lane.get("name")

    def tag(self, node_id: str) -> str:
        return etree.QName(self.nodes[node_id]).localname

    def bounds(self, element_id: str) -> tuple[float, float, float, float]:
        b = self.shapes[element_id].find("dc:Bounds", NS)
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    def properties(self, el) -> dict[str, str]:
        return {
            p.get("name"): p.get("value")
            for p in el.findall(f"{B}extensionElements/camunda:properties/camunda:property", NS)
        }

    def outgoing(self, node_id: str) -> list:
        return [f for f in self.flows.values() if f.get("sourceRef") == node_id]

    def successors(self) -> dict[str, list[str]]:
        """Sequence flows, plus boundary events as extra outgoing edges of the task they sit on."""
        succ: dict[str, list[str]] = {n: [] for n in self.nodes}
        for f in self.flows.values():
            succ[f.get("sourceRef")].append(f.get("targetRef"))
        for node_id, el in self.nodes.items():
            if self.tag(node_id) == "boundaryEvent":
                succ[el.get("attachedToRef")].append(node_id)
        return succ

    def check_gateways(self) -> dict[str, str]:
        return {
            node_id: self.properties(el)["check"]
            for node_id, el in self.nodes.items()
            if self.tag(node_id) == "exclusiveGateway" and "check" in self.properties(el)
        }

    def required_checks(self) -> set[str]:
        value = self.properties(self.process).get("required_checks", "")
        return {c.strip() for c in value.split(",") if c.strip()}

    def is_escalation_end(self, node_id: str) -> bool:
        el = self.nodes[node_id]
        return self.tag(node_id) == "endEvent" and el.find(f"{B}escalationEventDefinition") is not None


@pytest.fixture(scope="module", params=KEYS)
def model(request) -> Model:
    return Model(request.param)


def _overlap(a, b) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


# ----------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("key", KEYS)
def test_parses_with_camunda_parser_and_xsd(key):
    parser = CamundaParser(validator=BpmnValidator())
    parser.add_bpmn_file(str(BPMN_DIR / f"{key}.bpmn"))
    assert parser.get_process_ids() == [key]
    spec = parser.get_spec(key)
    user_tasks = [t for t in spec.task_specs.values() if type(t).__name__ == "UserTask"]
    assert user_tasks
    forms = camunda_forms(key)
    model = Model(key)
    for ts in user_tasks:
        assert ts.lane, ts.name
        ref = model.nodes[ts.name].get(f"{{{NS['camunda']}}}formRef")
        assert (ts.form is not None and ts.form.fields) or ref in forms, ts.name


def test_one_executable_process_in_a_pool(model):
    assert [p.get("id") for p in model.executable] == [model.key]
    assert len(model.root.findall(f"{B}process")) == 1
    collab = model.root.findall(f"{B}collaboration")
    assert len(collab) == 1
    participants = collab[0].findall(f"{B}participant")
    assert [p.get("processRef") for p in participants] == [model.key]
    assert model.process.get("name")


def test_written_as_camunda_modeler_would(model):
    root = model.root
    assert root.get("exporter") == "Camunda Modeler"
    assert root.get(f"{{{NS['modeler']}}}executionPlatform") == "Camunda Platform"
    assert root.get(f"{{{NS['modeler']}}}executionPlatformVersion", "").startswith("7.")
    for prefix in ("bpmn", "bpmndi", "dc", "di", "camunda", "modeler"):
        assert root.nsmap.get(prefix) == NS[prefix], prefix


def test_no_forbidden_elements(model):
    for name in FORBIDDEN:
        assert not model.root.findall(f".//{B}{name}"), name
    for el in model.process.iter(f"{B}serviceTask"):
        assert el.get(f"{{{NS['camunda']}}}type") == "external", el.get("id")
        assert el.get(f"{{{NS['camunda']}}}topic"), el.get("id")
        assert (
            el.get(f"{{{NS['camunda']}}}class") is None and el.get(f"{{{NS['camunda']}}}expression") is None
        )


# ----------------------------------------------------------------------------------------- diagram


def test_every_element_has_di(model):
    participant = model.root.find(f"{B}collaboration/{B}participant").get("id")
    assert participant in model.shapes
    for lane in model.lanes:
        assert lane.get("id") in model.shapes, lane.get("id")
    plane = model.root.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == model.root.find(f"{B}collaboration").get("id")
    for node_id in model.nodes:
        assert node_id in model.shapes, f"no BPMNShape for {node_id}"
        tag = model.tag(node_id)
        if tag in SIZES:
            assert model.bounds(node_id)[2:] == SIZES[tag], node_id
        if tag == "exclusiveGateway":
            assert model.shapes[node_id].get("isMarkerVisible") == "true", node_id
    for flow_id in model.flows:
        assert flow_id in model.edges, f"no BPMNEdge for {flow_id}"
        assert len(model.edges[flow_id].findall("di:waypoint", NS)) >= 2, flow_id


def test_edges_start_and_end_at_their_shapes(model):
    def near(pt, bounds, tol=2):
        x, y, w, h = bounds
        return x - tol <= pt[0] <= x + w + tol and y - tol <= pt[1] <= y + h + tol

    for flow_id, flow in model.flows.items():
        pts = [
            (float(p.get("x")), float(p.get("y"))) for p in model.edges[flow_id].findall("di:waypoint", NS)
        ]
        assert near(pts[0], model.bounds(flow.get("sourceRef"))), flow_id
        assert near(pts[-1], model.bounds(flow.get("targetRef"))), flow_id


def test_shapes_do_not_overlap_and_sit_in_their_lane(model):
    ids = list(model.nodes)
    for a, b in combinations(ids, 2):
        if model.nodes[a].get("attachedToRef") == b or model.nodes[b].get("attachedToRef") == a:
            continue  # a boundary event sits on its task's border by design
        assert not _overlap(model.bounds(a), model.bounds(b)), f"{a} overlaps {b}"
    lane_bounds = {lane.get("name"): model.bounds(lane.get("id")) for lane in model.lanes}
    for node_id in ids:
        x, y, w, h = model.bounds(node_id)
        lx, ly, lw, lh = lane_bounds[model.lane_of[node_id]]
        cx, cy = x + w / 2, y + h / 2
        assert lx <= cx <= lx + lw and ly <= cy <= ly + lh, f"{node_id} is drawn outside its lane"
    for a, b in combinations(model.lanes, 2):
        assert not _overlap(model.bounds(a.get("id")), model.bounds(b.get("id")))


# ----------------------------------------------------------------------------------------- conventions


def test_lanes_are_candidate_groups(model):
    names = {lane.get("name") for lane in model.lanes}
    assert names == PROCEDURES[model.key]["lanes"]
    for name in names:
        assert KEBAB.match(name), name
    for node_id in model.nodes:
        assert node_id in model.lane_of, f"{node_id} is in no lane"


def test_user_tasks_have_groups_and_forms(model):
    for node_id, el in model.nodes.items():
        if model.tag(node_id) != "userTask":
            continue
        groups = [
            g.strip() for g in el.get(f"{{{NS['camunda']}}}candidateGroups", "").split(",") if g.strip()
        ]
        assert groups and groups[0] == model.lane_of[node_id], node_id
        assert all(KEBAB.match(g) for g in groups), node_id
        ref = el.get(f"{{{NS['camunda']}}}formRef")
        if ref is not None:
            _check_camunda_form(model, node_id, el, ref)
            continue
        fields = el.findall(f"{B}extensionElements/camunda:formData/camunda:formField", NS)
        assert fields, f"{node_id} has no camunda:formData"
        for field in fields:
            assert SNAKE.match(field.get("id")), (node_id, field.get("id"))
            assert field.get("label"), (node_id, field.get("id"))
            assert field.get("type") in FIELD_TYPES, (node_id, field.get("id"))
            if field.get("type") == "enum":
                assert field.findall("camunda:value", NS), (node_id, field.get("id"))
        assert any(
            f.find("camunda:validation/camunda:constraint[@name='required']", NS) is not None for f in fields
        ), f"{node_id} has no required field"


def _check_camunda_form(model, node_id, el, ref):
    """A user task with a Camunda Form: the .form is deployed with the file (binding `deployment`), is a
    form-js schema as Camunda Modeler writes it, and has labelled snake_case fields, one of them required."""
    assert el.get(f"{{{NS['camunda']}}}formRefBinding") == "deployment", node_id
    assert el.find(f"{B}extensionElements/camunda:formData", NS) is None, f"{node_id} has two forms"
    schema = camunda_forms(model.key).get(ref)
    assert schema is not None, f"{node_id}: no {model.key}.*.form with id {ref}"
    assert schema["type"] == "default" and isinstance(schema["schemaVersion"], int), ref
    assert schema["exporter"]["name"] == "Camunda Modeler" and schema["executionPlatform"] == "Camunda Platform"
    inputs = form_inputs(schema["components"])
    assert inputs, ref
    for c in inputs:
        assert c.get("id") and SNAKE.match(c["key"]) and c.get("label"), (ref, c.get("id"))
        if c["type"] in ("select", "radio", "checklist", "taglist"):
            assert c.get("values"), (ref, c["key"])
    assert any((c.get("validate") or {}).get("required") for c in inputs), f"{ref} has no required field"


def test_every_form_beside_a_file_is_used(model):
    used = {el.get(f"{{{NS['camunda']}}}formRef") for el in model.nodes.values()}
    assert set(camunda_forms(model.key)) <= used


def test_exclusive_gateways_have_default_and_conditions(model):
    for node_id, el in model.nodes.items():
        if model.tag(node_id) != "exclusiveGateway":
            continue
        out = model.outgoing(node_id)
        default = el.get("default")
        assert default in {f.get("id") for f in out}, f"{node_id} has no valid default flow"
        for f in out:
            cond = f.find(f"{B}conditionExpression")
            if f.get("id") == default:
                assert cond is None, f.get("id")
            else:
                assert cond is not None, f.get("id")
                assert cond.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
                text = cond.text.strip()
                assert text.startswith("${") and text.endswith("}"), f.get("id")


def test_check_gateways_and_process_properties(model):
    expected = PROCEDURES[model.key]["checks"]
    found = model.check_gateways()
    assert found == expected
    assert model.required_checks() == set(expected.values())
    props = model.properties(model.process)
    if PROCEDURES[model.key]["major"]:
        assert props.get("major") == "true"
    else:
        assert "major" not in props
    for gw_id in found:
        out = model.outgoing(gw_id)
        assert len(out) == 2, gw_id
        default = model.nodes[gw_id].get("default")
        fail = [f for f in out if f.get("id") == default]
        passed = [f for f in out if f.get("id") != default]
        assert fail[0].get("name") == "fail", gw_id
        assert passed[0].find(f"{B}conditionExpression") is not None, gw_id


def test_timers(model):
    for node_id, el in model.nodes.items():
        timer = el.find(f"{B}timerEventDefinition")
        if timer is None:
            continue
        assert model.tag(node_id) == "boundaryEvent", node_id
        assert model.tag(el.get("attachedToRef")) == "userTask", node_id
        assert model.properties(el).get("sla") == "true", node_id
        duration = timer.find(f"{B}timeDuration")
        assert duration is not None, node_id
        text = duration.text.strip()
        assert ISO_DURATION.match(text) or (text.startswith("${") and text.endswith("}")), (node_id, text)
        assert el.get("cancelActivity") in ("true", "false"), node_id


def test_escalation_ends_reference_an_escalation(model):
    escalations = {e.get("id") for e in model.root.findall(f"{B}escalation")}
    for node_id in model.nodes:
        if model.is_escalation_end(node_id):
            ref = model.nodes[node_id].find(f"{B}escalationEventDefinition").get("escalationRef")
            assert ref in escalations, node_id


# ----------------------------------------------------------------------------------------- graph


def test_every_path_to_a_normal_end_passes_each_required_check(model):
    """Remove one required check gateway at a time: no normal end may then be reachable from a start."""
    succ = model.successors()
    starts = [n for n in model.nodes if model.tag(n) == "startEvent"]
    normal_ends = {n for n in model.nodes if model.tag(n) == "endEvent" and not model.is_escalation_end(n)}
    assert starts and normal_ends
    gateway_of = {check: gw for gw, check in model.check_gateways().items()}
    for check in model.required_checks():
        gw = gateway_of[check]
        seen, queue = set(starts), deque(starts)
        parent: dict[str, str] = {}
        while queue:
            n = queue.popleft()
            for m in succ[n]:
                if m != gw and m not in seen:
                    seen.add(m)
                    parent[m] = n
                    queue.append(m)
        leaked = normal_ends & seen
        if leaked:
            end = sorted(leaked)[0]
            path = [end]
            while path[-1] in parent:
                path.append(parent[path[-1]])
            pytest.fail(f"{end} is reachable without passing check {check}: {' -> '.join(reversed(path))}")


def test_every_node_reachable_and_every_loop_has_a_check(model):
    succ = model.successors()
    starts = [n for n in model.nodes if model.tag(n) == "startEvent"]
    seen, queue = set(starts), deque(starts)
    while queue:
        for m in succ[queue.popleft()]:
            if m not in seen:
                seen.add(m)
                queue.append(m)
    assert seen == set(model.nodes), f"unreachable: {set(model.nodes) - seen}"

    # with the check gateways removed, what is left must be acyclic
    checks = set(model.check_gateways())
    graph = {n: [m for m in ms if m not in checks] for n, ms in succ.items() if n not in checks}
    state: dict[str, int] = {}

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for m in graph[n]:
            if state.get(m) == 1:
                pytest.fail(f"loop without a check gateway: {' -> '.join(stack[stack.index(m) :] + [n, m])}")
            if m not in state:
                visit(m, stack + [n])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [])


def test_parallel_joins_only_take_branches_from_their_split(model):
    """A boundary-event path must never run into a parallel join (it would wait forever or fire twice)."""
    succ = model.successors()
    for node_id in model.nodes:
        if model.tag(node_id) != "boundaryEvent":
            continue
        seen, queue = {node_id}, deque([node_id])
        while queue:
            for m in succ[queue.popleft()]:
                if m not in seen:
                    seen.add(m)
                    queue.append(m)
        joins = {
            n
            for n in seen
            if model.tag(n) == "parallelGateway"
            and len([f for f in model.flows.values() if f.get("targetRef") == n]) > 1
        }
        assert not joins, f"{node_id} leads into parallel join(s) {joins}"
