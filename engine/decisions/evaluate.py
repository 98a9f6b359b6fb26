"""Evaluate a decision (and the decisions it requires) on input data: matched rules, hit policy, results."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .cells import CompiledDecision
from .feel import FeelError

MAX_REQUIRED_DEPTH = 20


class DecisionFailed(Exception):
    """The decision has no valid answer for these inputs (UNIQUE with two matches, ANY disagreeing, ...)."""


@dataclass
class Evaluation:
    decision_id: str
    results: list[dict[str, Any]]
    matched: list[str]
    inputs: dict[str, Any]
    required: list[Evaluation] = field(default_factory=list)

    def as_audit(self) -> dict[str, Any]:
        return {"decision": self.decision_id, "matched_rules": self.matched, "inputs": self.inputs,
                "outputs": self.results, "required": [r.as_audit() for r in self.required]}


def _priority(compiled: CompiledDecision, result: dict[str, Any]) -> tuple[int, ...]:
    ranks = []
    for output in compiled.decision.outputs:
        if output.values:
            value = result.get(output.name)
            ranks.append(output.values.index(value) if value in output.values else len(output.values))
    return tuple(ranks)


def _aggregate(compiled: CompiledDecision, results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    decision = compiled.decision
    if len(decision.outputs) != 1:
        raise DecisionFailed(f"decision {decision.id}: COLLECT {decision.aggregation} needs exactly one output")
    name = decision.outputs[0].name
    values: list[Any] = [r.get(name) for r in results if r.get(name) is not None]
    if decision.aggregation == "COUNT":
        return [{name: len(values)}]
    if not values:
        return []
    if any(not isinstance(v, int | float) or isinstance(v, bool) for v in values) \
            and decision.aggregation == "SUM":
        raise DecisionFailed(f"decision {decision.id}: COLLECT SUM over values that are not numbers")
    try:
        total = {"SUM": lambda: sum(values), "MIN": lambda: min(values), "MAX": lambda: max(values)}
        return [{name: total[decision.aggregation or "SUM"]()}]
    except TypeError:
        raise DecisionFailed(f"decision {decision.id}: {decision.aggregation} over values of mixed types") from None


def _hit(compiled: CompiledDecision, matched: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    policy = compiled.decision.hit_policy
    did = compiled.decision.id
    if policy == "UNIQUE" and len(matched) > 1:
        raise DecisionFailed(f"decision {did} (UNIQUE): rules {', '.join(m[0] for m in matched)} all match")
    if policy == "FIRST":
        return matched[:1]
    if policy == "ANY" and len({repr(sorted(m[1].items())) for m in matched}) > 1:
        raise DecisionFailed(f"decision {did} (ANY): matching rules {', '.join(m[0] for m in matched)} "
                             "give different outputs")
    if policy == "ANY":
        return matched[:1]
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        ordered = sorted(matched, key=lambda m: _priority(compiled, m[1]))  # stable: rule order on ties
        return ordered[:1] if policy == "PRIORITY" else ordered
    return matched  # UNIQUE (0 or 1), RULE ORDER, COLLECT


def evaluate(decisions: Mapping[str, CompiledDecision], decision_id: str, variables: Mapping[str, Any],
             depth: int = 0) -> Evaluation:
    """Evaluate one decision; required decisions first, their outputs added to the variables."""
    if depth > MAX_REQUIRED_DEPTH:
        raise DecisionFailed(f"decisions require each other more than {MAX_REQUIRED_DEPTH} deep")
    compiled = decisions[decision_id]
    decision = compiled.decision
    context = dict(variables)
    required = []
    for needed in decision.required:
        sub = evaluate(decisions, needed, variables, depth + 1)
        required.append(sub)
        for name in {k for r in sub.results for k in r}:
            values = [r.get(name) for r in sub.results]
            context[name] = values[0] if len(sub.results) == 1 else values
    try:
        if compiled.literal is not None:
            value = compiled.literal.value(context)
            return Evaluation(decision.id, [{decision.literal_variable or decision.id: value}], [], {}, required)
        inputs = [cell.value(context) for cell in compiled.inputs]
        shown = {label: value for label, value in zip(decision.input_labels, inputs, strict=False)}
        matched = []
        for rule, (entries, outputs) in zip(decision.rules, compiled.rules, strict=True):
            if all(entry.test(value, context) for entry, value in zip(entries, inputs, strict=True)):
                names = [o.name or decision.id for o in decision.outputs]
                matched.append((rule.id, {n: cell.value(context) for n, cell in zip(names, outputs, strict=True)}))
                if decision.hit_policy == "FIRST":
                    break
    except FeelError as err:
        raise DecisionFailed(f"decision {decision.id}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a JUEL cell's ExpressionError, named
        raise DecisionFailed(f"decision {decision.id}: {err}") from None
    hits = _hit(compiled, matched)
    results = [m[1] for m in hits]
    if decision.hit_policy == "COLLECT" and decision.aggregation:
        results = _aggregate(compiled, results)
    return Evaluation(decision.id, results, [m[0] for m in hits], shown, required)


MAP_RESULTS = ("resultList", "singleEntry", "singleResult", "collectEntries")


def map_result(evaluation: Evaluation, how: str) -> Any:
    """Camunda's mapDecisionResult: what the business rule task stores in its result variable."""
    results = evaluation.results
    if how == "resultList":
        return results
    if how == "singleResult":
        if len(results) > 1:
            raise DecisionFailed(f"decision {evaluation.decision_id} gave {len(results)} results; singleResult "
                                 "needs at most one")
        return results[0] if results else None
    if any(len(r) > 1 for r in results):
        raise DecisionFailed(f"decision {evaluation.decision_id} gives several outputs per result; {how} needs one")
    values = [next(iter(r.values())) for r in results if r]
    if how == "collectEntries":
        return values
    if len(values) > 1:
        raise DecisionFailed(f"decision {evaluation.decision_id} gave {len(values)} results; singleEntry needs "
                             "at most one")
    return values[0] if values else None
