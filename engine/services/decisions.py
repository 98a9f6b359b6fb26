"""Use cases for DMN decisions: list them, evaluate one for a designer, and settle a business rule task."""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from engine.db import deployment_rows, procedure_rows, resource_rows
from engine.decisions.cells import CompiledDecision, compile_decision
from engine.decisions.dmn_file import read_dmn
from engine.decisions.evaluate import DecisionFailed, Evaluation, evaluate, map_result
from engine.errors import Invalid, NotFound, Problem
from engine.identity import policy
from engine.identity.principal import Principal
from engine.runtime.runner import IncidentFailed, StartedService

from . import resource_versions
from .engine_app import IncidentEngine
from .recording import Step

_COMPILED: dict[str, dict[str, CompiledDecision]] = {}  # DMN file sha256 -> its decisions (immutable)
_LOCK = threading.Lock()


def compiled_file(sha256: str, content: bytes) -> dict[str, CompiledDecision]:
    """Every decision of a stored DMN file, compiled once per file content."""
    found = _COMPILED.get(sha256)
    if found is not None:
        return found
    dmn = read_dmn(content, max_bytes=max(len(content), 1))
    compiled: dict[str, CompiledDecision] = {}
    for decision in dmn.decisions.values():
        done, problems = compile_decision(decision)
        if done is None:  # checked at deploy; only a changed engine could get here
            raise Invalid(f"decision {decision.id} cannot be compiled", problems)
        compiled[decision.id] = done
    with _LOCK:
        return _COMPILED.setdefault(sha256, compiled)


def _run(conn: Connection, row: dict[str, Any], variables: Mapping[str, Any]) -> Evaluation:
    content = resource_rows.content(conn, row["id"])
    assert content is not None
    return evaluate(compiled_file(row["sha256"], content), row["key"], variables)


def _version(row: dict[str, Any], evaluation: Evaluation) -> dict[str, Any]:
    return {"decision": row["key"], "version": row["version"], "decision_version_id": row["id"],
            **{k: v for k, v in evaluation.as_audit().items() if k != "decision"}}


def evaluate_deployed(engine: IncidentEngine, key: str, variables: Mapping[str, Any], *,
                      version: int | None = None, principal: Principal | None = None) -> dict[str, Any]:
    """Evaluate a deployed decision (its latest version, or `version`) on `variables`, storing nothing.

    Returns {decision, version, decision_version_id, matched_rules, inputs, outputs, required}; `outputs`
    is the result list (one {output name: value} per matched rule, or the aggregate). NotFound for an
    unknown decision or version; Invalid (422) when the table has no valid answer (UNIQUE with two matches...).
    """
    policy.require(principal, "procedures.read")
    with engine.uow(write=False) as uow:
        row = resource_rows.find(uow.conn, "decision", key, version=version)
        if row is None:
            raise NotFound(f"no decision {key!r}" + (f" version {version}" if version is not None else ""))
        try:
            evaluation = _run(uow.conn, row, variables)
        except DecisionFailed as err:
            raise Invalid(str(err), [Problem(str(err), field="variables", rule="dmn.evaluation")]) from None
    return _version(row, evaluation)


def _resolve(conn: Connection, step: Step, ref: Any) -> dict[str, Any] | None:
    if ref.binding == "deployment":
        procedure = procedure_rows.get_by_id(conn, step.runtime.id)
        deployment = deployment_rows.get(conn, procedure["deployment_id"]) \
            if procedure and procedure.get("deployment_id") else None
        listed = next((r for r in (deployment or {}).get("resources", [])
                       if r["kind"] == "decision" and r["key"] == ref.key), None)
        return resource_rows.get_by_id(conn, listed["id"]) if listed else None
    return resource_rows.find(conn, "decision", ref.key, version=ref.version if ref.binding == "version" else None,
                              version_tag=ref.version_tag if ref.binding == "versionTag" else None)


def settle_business_rule(conn: Connection, step: Step,
                         service: StartedService) -> tuple[dict[str, Any], dict[str, Any]]:
    """Evaluate a started business rule task's decision: (the variables to complete it with, the
    `decision_evaluated` audit entry's columns for step.event). Raises IncidentFailed (the incident goes to error, with the reason) when
    the decision is not deployed or has no valid answer.
    """
    node = step.runtime.definition.nodes[service.element_id]
    ref = node.decision
    assert ref is not None  # the parser refuses a business rule task without a decisionRef
    row = _resolve(conn, step, ref)
    if row is None:
        raise IncidentFailed(f"business rule task {service.element_id}: decision '{ref.key}' "
                             f"({ref.binding}) is not deployed")
    try:
        evaluation = _run(conn, row, service.data)
        value = map_result(evaluation, ref.map_result)
    except DecisionFailed as err:
        raise IncidentFailed(f"business rule task {service.element_id}: {err}") from None
    audit = {"data": {**_version(row, evaluation), "result_variable": ref.result_variable,
                      "map_decision_result": ref.map_result},
             "task_id": service.task_id, "element_id": service.element_id, "element_name": node.name,
             "element_type": "businessRuleTask"}
    return ({ref.result_variable: value} if ref.result_variable else {}), audit


def latest(engine: IncidentEngine, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    return resource_versions.latest(engine, "decision", principal=principal)


def versions(engine: IncidentEngine, key: str, *, principal: Principal | None = None) -> list[dict[str, Any]]:
    return resource_versions.versions(engine, "decision", key, principal=principal)
