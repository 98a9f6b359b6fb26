"""Read an uploaded DMN file (1.1 to 1.5, as Camunda Modeler writes it) into Decisions, or problems."""
from __future__ import annotations

from typing import Any

from engine.bpmn.xmlsafe import parse_xml
from engine.errors import Problem, ProcedureInvalid

from .model import Cell, Decision, DmnFile, Output, Rule

DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/", "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
})
CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"
HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "PRIORITY", "ANY", "RULE ORDER", "OUTPUT ORDER", "COLLECT"})
AGGREGATIONS = frozenset({"SUM", "MIN", "MAX", "COUNT"})
MAX_RULES = 5_000
MAX_DECISIONS = 200


def _local(el: Any) -> str:
    return el.tag.rpartition("}")[2] if isinstance(el.tag, str) else ""


def _children(el: Any, name: str) -> list[Any]:
    return [c for c in el if _local(c) == name]


def _text(el: Any | None) -> Cell | None:
    if el is None:
        return None
    text_el = next((c for c in el if _local(c) == "text"), None)
    return Cell(text=(text_el.text if text_el is not None else "") or "", language=el.get("expressionLanguage"))


def _problem(el: Any, message: str, rule: str = "dmn.structure") -> Problem:
    owner = el
    while owner is not None and owner.get("id") is None:
        owner = owner.getparent()
    return Problem(message=message, line=el.sourceline, element_id=owner.get("id") if owner is not None else None,
                   rule=rule)


def _table(decision: Any, table: Any, problems: list[Problem]) -> dict[str, Any]:
    did = decision.get("id")
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    aggregation = (table.get("aggregation") or "").strip().upper() or None
    if policy not in HIT_POLICIES:
        problems.append(_problem(table, f"decision {did}: hit policy {policy} is not supported "
                                 f"(supported: {', '.join(sorted(HIT_POLICIES))})", "dmn.hit_policy"))
    if aggregation and (policy != "COLLECT" or aggregation not in AGGREGATIONS):
        problems.append(_problem(table, f"decision {did}: aggregation {aggregation} is only supported with "
                                 "COLLECT, as one of SUM, MIN, MAX, COUNT", "dmn.hit_policy"))
    inputs, labels = [], []
    for item in _children(table, "input"):
        expression = _text(next((c for c in item if _local(c) == "inputExpression"), None))
        if expression is None or not expression.text.strip():
            problems.append(_problem(item, f"decision {did}: input {item.get('id')} has no input expression"))
            expression = Cell("")
        inputs.append(expression)
        labels.append(item.get("label") or item.get(f"{{{CAMUNDA_NS}}}inputVariable") or expression.text)
    outputs = []
    for item in _children(table, "output"):
        values = _text(next((c for c in item if _local(c) == "outputValues"), None))
        name = item.get("name") or ""
        if not name and len(_children(table, "output")) > 1:
            problems.append(_problem(item, f"decision {did}: output {item.get('id')} needs a name when the "
                                     "table has several outputs"))
        listed = tuple(v.strip().strip('"') for v in (values.text.split(",") if values and values.text else ())
                       if v.strip())
        outputs.append(Output(name=name, label=item.get("label"), type_ref=item.get("typeRef"), values=listed))
    if not outputs:
        problems.append(_problem(table, f"decision {did}: the table has no output"))
    rules: list[Rule] = []
    for rule in _children(table, "rule"):
        entries = [_text(c) or Cell("") for c in rule if _local(c) == "inputEntry"]
        results = [_text(c) or Cell("") for c in rule if _local(c) == "outputEntry"]
        if len(entries) != len(inputs) or len(results) != len(outputs):
            problems.append(_problem(rule, f"decision {did}: rule {rule.get('id')} has {len(entries)} input and "
                                     f"{len(results)} output entries; the table has {len(inputs)} inputs and "
                                     f"{len(outputs)} outputs"))
        rules.append(Rule(id=rule.get("id") or f"rule{len(rules) + 1}", inputs=tuple(entries),
                          outputs=tuple(results), line=rule.sourceline))
    if len(rules) > MAX_RULES:
        problems.append(_problem(table, f"decision {did} has {len(rules)} rules; the limit is {MAX_RULES}"))
    return {"hit_policy": policy, "aggregation": aggregation, "inputs": tuple(inputs),
            "input_labels": tuple(labels), "outputs": tuple(outputs), "rules": tuple(rules)}


def _decision(el: Any, problems: list[Problem]) -> Decision | None:
    did = el.get("id")
    if not did:
        problems.append(_problem(el, "a decision needs an id"))
        return None
    required = tuple((r.get("href") or "").lstrip("#") for req in _children(el, "informationRequirement")
                     for r in req if _local(r) == "requiredDecision")
    common = {"id": did, "name": (el.get("name") or did).strip(), "required": required, "line": el.sourceline,
              "version_tag": el.get(f"{{{CAMUNDA_NS}}}versionTag")}
    table = next(iter(_children(el, "decisionTable")), None)
    if table is not None:
        return Decision(**common, **_table(el, table, problems))
    literal = next(iter(_children(el, "literalExpression")), None)
    if literal is not None:
        variable = next(iter(_children(el, "variable")), None)
        return Decision(**common, literal=_text(literal),
                        literal_variable=variable.get("name") if variable is not None else did)
    problems.append(_problem(el, f"decision {did} is neither a decision table nor a literal expression, which "
                             "this engine does not run", "dmn.unsupported"))
    return None


def read_dmn(data: bytes, *, max_bytes: int) -> DmnFile:
    """Parse a DMN file safely (no DTD, no entities) and read its decisions; ProcedureInvalid on problems."""
    root = parse_xml(data, max_bytes=max_bytes).getroot()
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if _local(root) != "definitions" or namespace not in DMN_NAMESPACES:
        raise ProcedureInvalid("not a DMN file", [Problem(
            message=f"not a DMN file: the root element is {root.tag}; expected definitions in a DMN 1.1-1.5 "
                    "namespace", line=root.sourceline, rule="dmn.root")])
    problems: list[Problem] = []
    decisions: dict[str, Decision] = {}
    elements = _children(root, "decision")
    if not elements:
        problems.append(_problem(root, "the DMN file has no decision"))
    if len(elements) > MAX_DECISIONS:
        problems.append(_problem(root, f"the file has {len(elements)} decisions; the limit is {MAX_DECISIONS}"))
    for el in elements[:MAX_DECISIONS]:
        decision = _decision(el, problems)
        if decision is None:
            continue
        if decision.id in decisions:
            problems.append(_problem(el, f"two decisions have the id {decision.id}"))
        decisions[decision.id] = decision
    for decision in decisions.values():
        for needed in decision.required:
            if needed not in decisions:
                problems.append(Problem(message=f"decision {decision.id} requires decision '{needed}', which is not "
                                        "in this file", element_id=decision.id, line=decision.line,
                                        rule="dmn.requirement"))
    if not problems:
        problems += _cycles(decisions)
    if problems:
        raise ProcedureInvalid("the DMN file cannot be used", problems[:50])
    definitions_id = root.get("id") or next(iter(decisions))
    return DmnFile(definitions_id=definitions_id, name=(root.get("name") or definitions_id).strip(),
                   decisions=decisions)


def _cycles(decisions: dict[str, Decision]) -> list[Problem]:
    state: dict[str, int] = {}

    def visit(did: str, path: list[str]) -> list[Problem]:
        if state.get(did) == 2:
            return []
        if state.get(did) == 1:
            cycle = " -> ".join([*path[path.index(did):], did])
            return [Problem(message=f"decisions require each other in a cycle: {cycle}", element_id=did,
                            line=decisions[did].line, rule="dmn.requirement")]
        state[did] = 1
        for needed in decisions[did].required:
            found = visit(needed, [*path, did])
            if found:
                return found
        state[did] = 2
        return []

    for did in decisions:
        found = visit(did, [])
        if found:
            return found
    return []
