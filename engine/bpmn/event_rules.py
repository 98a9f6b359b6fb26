"""Which events a procedure may use: message, signal and timer events as Camunda 7 runs them, each refusal a Problem.

Kept apart from engine.bpmn.support (tasks, gateways, Java, scripts) so each construct's rules live in one
small place. Messages and signals reach an incident through POST /api/v1/messages and /signals; a receive
task without a message is a wait state, moved on by POST /api/v1/incidents/{id}/trigger; a message
thrown by a procedure is an outbox delivery; a timer start event is fired by the scheduler.
"""
from __future__ import annotations

from typing import Any

from engine.errors import Problem

MAX_EVENT_NAME = 255
NOT_SUPPORTED = "is not supported by this engine"
_THROWS = ("intermediateThrowEvent", "endEvent")
_START_KINDS = frozenset({"message", "signal", "timer", "conditional"})
VARIABLE_EVENTS = frozenset({"create", "update", "delete"})


def _support() -> Any:
    from engine.bpmn import support

    return support


def is_process_start(el: Any) -> bool:
    """A start event of the process itself (not of a subprocess or an event subprocess)."""
    parent = el.getparent()
    return _support().local(el) == "startEvent" and parent is not None and _support().local(parent) == "process"


def in_event_subprocess(el: Any) -> bool:
    parent = el.getparent()
    return parent is not None and _support().local(parent) == "subProcess" \
        and parent.get("triggeredByEvent") == "true"


def _declared(el: Any, kind: str) -> dict[str, Any]:
    s = _support()
    root = el.getroottree().getroot()
    return {d.get("id"): d for d in root.iter(f"{{{s.BPMN_NS}}}{kind}") if d.get("id")}


def local_ref(ref: str) -> str:
    """A reference without its namespace prefix (`tns:newInvoice` -> `newInvoice`): ids are unique per file."""
    return ref.rpartition(":")[2].strip()


def _references(el: Any, tag: str) -> list[tuple[Any, str, str]]:
    """(element carrying the reference, attribute, 'message' or 'signal') for each message or signal ref."""
    s = _support()
    refs = [(el, "messageRef", "message")] if tag in ("receiveTask", "sendTask") and el.get("messageRef") else []
    refs += [(d, f"{kind}Ref", kind) for d in el if s.namespace(d) == s.BPMN_NS
             for kind in ("message", "signal") if s.local(d) == f"{kind}EventDefinition"]
    return refs


def prepare_references(root: Any, scope: list[Any]) -> list[Problem]:
    """Rewrite what SpiffWorkflow's parser cannot resolve but Camunda accepts; returns warnings.

    - a prefixed reference (`messageRef="tns:newInvoice"`) loses its prefix;
    - a message thrown (throw or end event, send task) that the file never declares is declared with its
      reference as its name, which is then the outbox topic.
    """
    s = _support()
    warnings: list[Problem] = []
    tags = ("intermediateCatchEvent", "intermediateThrowEvent", "startEvent", "endEvent", "boundaryEvent",
            "receiveTask", "sendTask")
    for el in (e for process in scope for e in process.iter(*(f"{{{s.BPMN_NS}}}{t}" for t in tags))):
        for holder, attribute, kind in _references(el, s.local(el)):
            ref = holder.get(attribute) or ""
            if ":" in ref:
                holder.set(attribute, local_ref(ref))
            ref = local_ref(ref)
            if ref and ref not in _declared(el, kind) and s.local(el) in (*_THROWS, "sendTask"):
                declaration = root.makeelement(f"{{{s.BPMN_NS}}}{kind}", {"id": ref, "name": ref})
                root.insert(0, declaration)
                warnings.append(s.problem(el, f"{el.get('id')} throws {kind} '{ref}', which the file does not "
                                          f"declare: it is delivered with the name '{ref}'", "event.undeclared"))
    return warnings


def reference_problems(el: Any, tag: str) -> list[Problem]:
    """A message or signal an element refers to must be declared in the file, named, and not too long."""
    s = _support()
    out: list[Problem] = []
    catches = tag not in _THROWS and tag != "sendTask"
    for definition, attribute, kind in _references(el, tag):
        ref = local_ref(definition.get(attribute) or "")
        name = el.get("id")
        if not ref:
            if catches:
                out.append(s.problem(el, f"{kind} event {name} names no {kind} ({attribute}), which "
                                     f"{NOT_SUPPORTED}: it could never be correlated", f"unsupported.{kind}"))
            continue
        target = _declared(el, kind).get(ref)
        if target is None and not catches:
            continue  # declared with its reference as its name (prepare_references)
        if target is None:
            out.append(s.problem(el, f"{name} refers to {kind} '{ref}', which this file does not declare "
                                 f"(a bpmn:{kind} with that id)", f"unsupported.{kind}"))
        elif kind == "signal" and not (target.get("name") or "").strip():
            out.append(s.problem(el, f"{name} refers to signal '{ref}', which has no name: a signal is broadcast by "
                                 "its name (Camunda refuses it too)", "bpmn.camunda"))
        elif len(target.get("name") or ref) > MAX_EVENT_NAME:
            out.append(s.problem(el, f"the {kind} name of {name} is longer than {MAX_EVENT_NAME} characters",
                                 f"unsupported.{kind}"))
    return out


def event_problems(el: Any, tag: str) -> list[Problem]:
    """What an event element may not do here."""
    s = _support()
    name, kinds = el.get("id"), s.event_kinds(el)
    out = reference_problems(el, tag)
    top_start = is_process_start(el)
    if tag == "startEvent" and not top_start and not in_event_subprocess(el) and kinds:
        out.append(s.problem(el, f"start event {name} of a subprocess is a {'/'.join(kinds)} start event, which "
                             f"{NOT_SUPPORTED}: an embedded subprocess starts with a plain start event",
                             "unsupported.start"))
    if tag == "startEvent" and in_event_subprocess(el) and kinds and kinds[0] == "error" \
            and (el.get("isInterrupting") or "true").strip().lower() != "true":
        out.append(s.problem(el, f"start event {name} starts an event subprocess on an error without interrupting "
                             "its scope: an error start event must be interrupting (Camunda refuses it too)",
                             "bpmn.camunda"))
    if "link" in kinds:
        out.append(s.problem(el, f"link event {name} {NOT_SUPPORTED}: link events are not implemented by "
                             "SpiffWorkflow", "unsupported.link"))  # compensation: engine.bpmn.compensation
    if (top_start or (tag == "startEvent" and in_event_subprocess(el))) and len(kinds) > 1:
        out.append(s.problem(el, f"start event {name} has several event definitions ({'/'.join(kinds)}), a "
                             f"BPMN 'multiple' start, which {NOT_SUPPORTED}: Camunda 7 does not run it either (its "
                             "parser takes the first definition and drops the others); draw one start event "
                             "per trigger", "unsupported.start"))
    elif top_start and kinds and kinds[0] not in _START_KINDS:
        out.append(s.problem(el, f"start event {name} is a {kinds[0]} start event, which {NOT_SUPPORTED}; a "
                             "procedure starts through the API (a plain start event), a message, a signal, "
                             "a timer or a condition", "unsupported.start"))
    elif top_start and kinds == ["timer"]:
        out += _timer_start_problems(el)
    if "conditional" in kinds:
        out += _condition_problems(el)
    if tag == "boundaryEvent" and not kinds:
        out.append(s.problem(el, f"boundary event {name} has no event definition", "unsupported.event"))
    return out


def is_start_timer(el: Any) -> bool:
    """Is this timeDate/timeDuration/timeCycle the schedule of a timer start event of the process itself?
    (It is read by engine.events.schedule, not evaluated as an expression.)"""
    s = _support()
    definition = el.getparent()
    event = definition.getparent() if definition is not None else None
    return event is not None and is_process_start(event) and s.local(definition) == "timerEventDefinition"


def _condition_problems(el: Any) -> list[Problem]:
    """A conditional event needs a condition; camunda:variableEvents names create, update or delete."""
    s = _support()
    definition = next(d for d in el if s.local(d) == "conditionalEventDefinition")
    out: list[Problem] = []
    if not any(s.local(c) == "condition" and (c.text or "").strip() for c in definition):
        out.append(s.problem(el, f"conditional event {el.get('id')} has no condition", "unsupported.conditional"))
    events = {e.strip() for e in (s.camunda_attr(definition, "variableEvents") or "").split(",") if e.strip()}
    if events - VARIABLE_EVENTS:
        out.append(s.problem(el, f"conditional event {el.get('id')}: camunda:variableEvents "
                             f"{', '.join(sorted(events - VARIABLE_EVENTS))} is not create, update or delete",
                             "unsupported.conditional"))
    if is_process_start(el) and (s.camunda_attr(definition, "variableName") or events):
        out.append(s.problem(el, f"conditional start event {el.get('id')}: camunda:variableName and "
                             "variableEvents apply to a running incident, not to a process start (Camunda "
                             "ignores them there too); remove them", "unsupported.conditional"))
    return out


def condition_filters(root: Any, renamed: dict[str, str]) -> dict[str, tuple[str | None, frozenset[str]]]:
    """Element id -> (camunda:variableName, camunda:variableEvents) of each conditional event that has them."""
    s = _support()
    found: dict[str, tuple[str | None, frozenset[str]]] = {}
    for definition in root.iter(f"{{{s.BPMN_NS}}}conditionalEventDefinition"):
        name = (s.camunda_attr(definition, "variableName") or "").strip() or None
        events = frozenset(e.strip() for e in (s.camunda_attr(definition, "variableEvents") or "").split(",")
                           if e.strip())
        owner_id = s.owner(definition).get("id") or ""
        if name or events:
            found[renamed.get(owner_id, owner_id)] = (name, events)
    return found


def is_cron_cycle(el: Any) -> bool:
    """A timeCycle written as Quartz cron (run by engine.runtime.timers.CronCycleTimer, not evaluated)."""
    from engine.events.schedule import is_cron

    return is_cron(el.text or "")


def cron_problem(el: Any) -> Problem | None:
    """A Quartz cron timeCycle on a boundary or event-subprocess timer that cannot be scheduled."""
    from engine.events.schedule import CRON_MIN_INTERVAL, ScheduleError, parse_cron

    if not is_cron_cycle(el):
        return None
    try:
        parse_cron(el.text or "", CRON_MIN_INTERVAL, "a timer may fire at most once a second")
    except ScheduleError as err:
        return _support().problem(el, f"timer on {_support().owner(el).get('id')}: {err}", "unsupported.timer")
    return None


def _timer_start_problems(el: Any) -> list[Problem]:
    from engine.events.schedule import ScheduleError, parse

    s = _support()
    definition = next(d for d in el if s.local(d) == "timerEventDefinition")
    times = [t for t in definition if s.local(t) in ("timeDate", "timeDuration", "timeCycle")]
    if not times:
        return [s.problem(el, f"timer start event {el.get('id')} has no timeDate, timeDuration or timeCycle",
                          "unsupported.timer")]
    try:
        parse(s.local(times[0])[4:].lower(), times[0].text or "")
    except ScheduleError as err:
        return [s.problem(times[0], f"timer start event {el.get('id')}: {err}", "unsupported.timer")]
    return []
