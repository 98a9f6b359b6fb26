"""What Camunda 7's parser refuses about error and escalation events, refused here too (rule bpmn.camunda).

- An error end event names its error (errorRef), and an error it names that this file declares has an
  errorCode (an errorRef to an error the file does not declare is the code itself, as in Camunda:
  engine.bpmn.implicit declares it so for SpiffWorkflow).
- A throwing escalation event (intermediate throw or end event) names its escalation, and that escalation
  has an escalationCode (the code is what catchers match).
- One activity has at most one escalation boundary event per code (no code counts as one code), and one
  scope at most one escalation event subprocess per code.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from engine.errors import Problem


def _code(definition: Any, escalations: dict[str, Any]) -> str | None:
    ref = (definition.get("escalationRef") or "").rpartition(":")[2].strip()
    target = escalations.get(ref)
    return (target.get("escalationCode") or None) if target is not None else (ref or None)


def problems(scope: list[Any]) -> list[Problem]:
    from engine.bpmn.support import BPMN_NS, local, problem

    root = scope[0].getroottree().getroot() if scope else None
    if root is None:
        return []
    escalations = {e.get("id"): e for e in root.iter(f"{{{BPMN_NS}}}escalation") if e.get("id")}
    out: list[Problem] = []
    boundaries: Counter[tuple[str, str | None]] = Counter()
    handlers: Counter[tuple[int, str | None]] = Counter()
    errors = {e.get("id"): e for e in root.iter(f"{{{BPMN_NS}}}error") if e.get("id")}
    for process in scope:
        for definition in process.iter(f"{{{BPMN_NS}}}errorEventDefinition"):
            holder = definition.getparent()
            if local(holder) != "endEvent":
                continue
            ref = (definition.get("errorRef") or "").rpartition(":")[2].strip()
            if not ref:
                out.append(problem(holder, f"error end event {holder.get('id')} throws no error: errorRef is "
                                           "required (Camunda refuses it too)", "bpmn.camunda"))
            elif ref in errors and not (errors[ref].get("errorCode") or "").strip():
                out.append(problem(holder, f"error end event {holder.get('id')} throws error '{ref}', which has no "
                                           "errorCode (Camunda refuses it too)", "bpmn.camunda"))
        for definition in process.iter(f"{{{BPMN_NS}}}escalationEventDefinition"):
            holder = definition.getparent()
            tag, name = local(holder), holder.get("id")
            if tag in ("intermediateThrowEvent", "endEvent"):
                ref = (definition.get("escalationRef") or "").rpartition(":")[2].strip()
                if not ref:
                    out.append(problem(holder, f"escalation event {name} throws no escalation: escalationRef is "
                                               "required (Camunda refuses it too)", "bpmn.camunda"))
                elif ref in escalations and not (escalations[ref].get("escalationCode") or "").strip():
                    out.append(problem(holder, f"escalation event {name} throws escalation '{ref}', which has no "
                                               "escalationCode (Camunda refuses it too)", "bpmn.camunda"))
            elif tag == "boundaryEvent":
                key = (holder.get("attachedToRef") or "", _code(definition, escalations))
                boundaries[key] += 1
                if boundaries[key] == 2:
                    out.append(problem(holder, f"activity {key[0]} has several escalation boundary events for "
                                               f"{_shown(key[1])} (Camunda refuses it too)", "bpmn.camunda"))
            elif tag == "startEvent" and holder.getparent() is not None \
                    and holder.getparent().get("triggeredByEvent") == "true":
                outer = holder.getparent().getparent()
                slot = (id(outer), _code(definition, escalations))
                handlers[slot] += 1
                if handlers[slot] == 2:
                    out.append(problem(holder, f"scope {outer.get('id')} has several escalation event subprocesses "
                                               f"for {_shown(slot[1])} (Camunda refuses it too)", "bpmn.camunda"))
    return out


def _shown(code: str | None) -> str:
    return f"escalation code '{code}'" if code is not None else "any escalation code"

