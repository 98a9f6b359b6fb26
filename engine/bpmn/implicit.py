"""BPMN's implicit splits and ends, and Camunda's undeclared error codes, made explicit for SpiffWorkflow.

SpiffWorkflow 3.2 refuses, or silently misreads, shapes that BPMN 2.0 and Camunda 7 run:
- an activity or event with several outgoing sequence flows (an implicit split): Camunda takes every flow
  whose condition is true and every flow without one, the default flow when none was taken, and fails
  ("no conditional sequence flow could be selected") when nothing is; SpiffWorkflow refuses the task, and
  ignores the condition on a single conditional flow out of an activity. Such an activity gets a generated
  gateway after it: a parallel one when no flow has a condition, else an inclusive one (the activity's
  default flow moves to it, an unconditioned flow gets `true`);
- a flow node without outgoing flows ends its token (a subprocess completes when no token is left in it);
  SpiffWorkflow refuses a subprocess without end event and never completes one whose tokens end elsewhere
  than at an end event. Each such node gets a flow to a generated end event of its scope;
- an errorRef naming no bpmn:error: Camunda takes the reference itself as the error code; SpiffWorkflow fails
  with a TypeError. A bpmn:error with that id and code is declared.
The original elements keep their ids (tasks, audit, Camunda REST activity ids); generated ones carry
GENERATED in theirs and the runtime hides them (no bpmn_id), like compensation's.
"""
from __future__ import annotations

from typing import Any

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
GENERATED = "__implicit_"
_SCOPES = frozenset({"process", "subProcess", "transaction"})
_NODES = frozenset({"startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task",
                    "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
                    "businessRuleTask", "subProcess", "transaction", "adHocSubProcess", "callActivity",
                    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway"})


def _local(el: Any) -> str:
    return el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""


def _bpmn(el: Any, tag: str) -> Any:
    return el.makeelement(f"{{{BPMN_NS}}}{tag}", {})


def origin(spec_name: str) -> str | None:
    """The element a generated task spec stands for (the activity a split follows, the scope an end closes)."""
    return spec_name.partition(GENERATED)[0] or None if GENERATED in spec_name else None


def rewrite(root: Any) -> None:
    """Rewrite every process of the file (in place) into the explicit shapes SpiffWorkflow runs."""
    ids = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}

    def fresh(wanted: str) -> str:
        while wanted in ids:
            wanted += "_"
        ids.add(wanted)
        return wanted

    _declare_errors(root, ids)
    for scope in [el for el in root.iter(*(f"{{{BPMN_NS}}}{t}" for t in _SCOPES))]:
        _splits(scope, fresh)
        _ends(scope, fresh)


def _declare_errors(root: Any, ids: set[str | None]) -> None:
    declared = {el.get("id") for el in root.iter(f"{{{BPMN_NS}}}error")}
    for ref in sorted({el.get("errorRef") for el in root.iter(f"{{{BPMN_NS}}}errorEventDefinition")}
                      - declared - {None, ""}):
        if ref in ids:  # the id names something else: SpiffWorkflow cannot take it; keep its own refusal
            continue
        error = _bpmn(root, "error")
        error.set("id", ref)
        error.set("errorCode", ref)
        error.set("name", ref)
        root.insert(0, error)


def _children(scope: Any) -> list[Any]:
    return [c for c in scope if isinstance(c.tag, str) and c.tag.startswith(f"{{{BPMN_NS}}}")]


def _conditioned(flow: Any) -> bool:
    return any(_local(c) == "conditionExpression" for c in flow)


def _splits(scope: Any, fresh: Any) -> None:
    children = _children(scope)
    nodes = {c.get("id"): c for c in children if _local(c) in _NODES}
    outgoing: dict[str, list[Any]] = {}
    for flow in (c for c in children if _local(c) == "sequenceFlow"):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow)
    for source, flows in outgoing.items():
        node = nodes.get(source)
        if node is None or _local(node).endswith("Gateway") or not (len(flows) > 1 or any(map(_conditioned, flows))):
            continue
        default = node.attrib.pop("default", None)
        inclusive = default is not None or any(map(_conditioned, flows))
        gateway = _bpmn(scope, "inclusiveGateway" if inclusive else "parallelGateway")
        gateway.set("id", fresh(f"{source}{GENERATED}split"))
        if default is not None:
            gateway.set("default", default)
        for flow in flows:
            flow.set("sourceRef", gateway.get("id"))
            if inclusive and flow.get("id") != default and not _conditioned(flow):
                condition = _bpmn(flow, "conditionExpression")
                condition.set(XSI_TYPE, "tFormalExpression")
                condition.text = "true"
                flow.append(condition)
        link = _bpmn(scope, "sequenceFlow")
        link.attrib.update({"id": fresh(f"{source}{GENERATED}flow"), "sourceRef": source,
                            "targetRef": gateway.get("id")})
        node.addnext(gateway)
        gateway.addnext(link)


def _ends_token(node: Any) -> bool:
    """A flow node without outgoing flows whose token simply ends there."""
    tag, kinds = _local(node), {_local(c) for c in node}
    if tag == "endEvent" or node.get("isForCompensation") == "true" or node.get("triggeredByEvent") == "true":
        return False
    if tag == "boundaryEvent" and "compensateEventDefinition" in kinds:
        return False
    return not (tag == "intermediateThrowEvent" and "linkEventDefinition" in kinds)


def _ends(scope: Any, fresh: Any) -> None:
    children = _children(scope)
    sources = {c.get("sourceRef") for c in children if _local(c) == "sequenceFlow"}
    leaves = [c for c in children if _local(c) in _NODES and c.get("id") not in sources and _ends_token(c)]
    if not leaves:
        return
    scope_id = scope.get("id") or "process"
    end = _bpmn(scope, "endEvent")
    end.set("id", fresh(f"{scope_id}{GENERATED}end"))
    scope.append(end)
    for leaf in leaves:
        flow = _bpmn(scope, "sequenceFlow")
        flow.attrib.update({"id": fresh(f"{leaf.get('id')}{GENERATED}ended"), "sourceRef": leaf.get("id"),
                            "targetRef": end.get("id")})
        scope.append(flow)
