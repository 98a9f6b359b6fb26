"""What a procedure declares about its checks: check gateways, their pass and fail flows, required checks, start data."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.bpmn.model import FlowDef, NodeDef, ProcedureDefinition
from engine.expressions import ExpressionError, names_used

CHECK_PROPERTY = "check"
REQUIRED_PROPERTY = "required_checks"
START_DATA_PROPERTY = "start_data"
FAIL_NAME = "fail"


@dataclass(frozen=True)
class CheckDef:
    """One check gateway: the check it enforces, the flow taken when it passes and when it fails.

    `names` are the data names the pass condition reads; their values are recorded at every evaluation.
    `pass_flow`/`fail_flow` are None when the gateway's flows do not have the required shape (lint says why).
    """

    name: str
    gateway_id: str
    pass_flow: FlowDef | None
    fail_flow: FlowDef | None
    names: frozenset[str]

    def as_dict(self) -> dict[str, object]:
        return {"check": self.name, "gateway_id": self.gateway_id,
                "pass_flow": self.pass_flow.id if self.pass_flow else None,
                "fail_flow": self.fail_flow.id if self.fail_flow else None,
                "names": sorted(self.names)}


def split_list(raw: str | None) -> list[str]:
    """A comma-separated property value as a list of distinct, non-empty items, in order."""
    return list(dict.fromkeys(item.strip() for item in (raw or "").split(",") if item.strip()))


def check_name(node: NodeDef) -> str | None:
    """The check a node declares (camunda/spiffworkflow property `check`), if any."""
    return (node.properties.get(CHECK_PROPERTY) or "").strip() or None


def is_fail_flow(flow: FlowDef) -> bool:
    return flow.is_default or (flow.name or "").strip().lower() == FAIL_NAME


def pass_and_fail(definition: ProcedureDefinition, gateway_id: str) -> tuple[FlowDef | None, FlowDef | None]:
    """(pass flow, fail flow) of a check gateway: the fail flow is the default, else the flow named `fail`;
    the pass flow is the other one and must carry a condition. (None, None) for any other shape."""
    flows = definition.outgoing(gateway_id)
    if len(flows) != 2:
        return None, None
    fails = [f for f in flows if f.is_default] or [f for f in flows if is_fail_flow(f)]
    if len(fails) != 1:
        return None, None
    passed = next(f for f in flows if f is not fails[0])
    if passed.condition is None or is_fail_flow(passed):
        return None, None
    return passed, fails[0]


def condition_names(condition: str | None) -> frozenset[str]:
    if not condition:
        return frozenset()
    try:
        return names_used(condition)
    except ExpressionError:
        return frozenset()


def check_gateways(definition: ProcedureDefinition) -> dict[str, CheckDef]:
    """Every node that declares a check (gateway id -> CheckDef), whatever its type; lint refuses the odd ones."""
    found: dict[str, CheckDef] = {}
    for node in definition.nodes.values():
        name = check_name(node)
        if name is not None:
            found[node.id] = check_at(definition, node.id) or CheckDef(name, node.id, None, None, frozenset())
    return found


def required_checks(definition: ProcedureDefinition, extra: Iterable[str] = ()) -> list[str]:
    """The process property `required_checks` plus any the caller adds (strategy objectives, later)."""
    declared = split_list(definition.process_properties.get(REQUIRED_PROPERTY))
    return list(dict.fromkeys([*declared, *(e.strip() for e in extra if e and e.strip())]))


def start_data(definition: ProcedureDefinition) -> frozenset[str]:
    """The data names the procedure expects when an incident starts (process property `start_data`)."""
    return frozenset(split_list(definition.process_properties.get(START_DATA_PROPERTY)))


def check_at(definition: ProcedureDefinition, gateway_id: str) -> CheckDef | None:
    """The check an exclusive gateway enforces, if it declares one."""
    node = definition.nodes.get(gateway_id)
    name = check_name(node) if node is not None else None
    if node is None or name is None or node.type != "exclusiveGateway":
        return None
    passed, failed = pass_and_fail(definition, gateway_id)
    return CheckDef(name, gateway_id, passed, failed, condition_names(passed.condition if passed else None))
