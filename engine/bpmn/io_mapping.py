"""camunda:inputOutput read from the XML: each parameter's value as plain data, each refusal a Problem.

A value is one of: None (an empty parameter), ("text", s) a constant, ("expression", s) a whole `${...}`,
("template", s) text with `${...}` parts (a string), ("list", values), ("map", ((key, value), ...)) or
("script", lines) a Python script in the safe script language whose last line is the value. What runs
them is engine.runtime.io_mapping; Camunda's own parse-time refusals are mirrored here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.errors import Problem

Value = Any  # None | tuple[str, ...] as described above
_WHOLE = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
_PART = re.compile(r"[$#]\{")
# Camunda's BpmnParse refuses these too ("camunda:inputOutput mapping unsupported for element type ...").
_CAMUNDA_REFUSES = ("startEvent", "boundaryEvent", "exclusiveGateway", "inclusiveGateway", "parallelGateway",
                    "eventBasedGateway", "complexGateway")


@dataclass(frozen=True)
class IoMapping:
    """The input and output parameters of one activity or event, in document order."""

    inputs: tuple[tuple[str, Value], ...] = ()
    outputs: tuple[tuple[str, Value], ...] = ()


def _support() -> Any:
    from engine.bpmn import support

    return support


def mapping_element(el: Any) -> Any:
    """The camunda:inputOutput directly in an element's extensionElements (not a connector's), or None."""
    s = _support()
    return next((c for ext in el if s.local(ext) == "extensionElements" for c in ext
                 if s.local(c) == "inputOutput" and s.namespace(c) in s.CAMUNDA_NS), None)


def _text_value(text: str) -> Value:
    whole = _WHOLE.match(text)
    if whole and not _PART.search(whole.group(1)):
        return ("expression", whole.group(1).strip())
    return ("template", text) if _PART.search(text) else ("text", text)


def read_value(param: Any, problems: list[Problem], where: str) -> Value:
    """The value of an inputParameter, outputParameter, list item or map entry."""
    s = _support()
    children = [c for c in param if isinstance(c.tag, str)]
    if not children:
        text = param.text or ""
        return _text_value(text) if text.strip() else None
    child = children[0]
    kind = s.local(child)
    if kind == "list":
        return ("list", tuple(read_value(item, problems, where) for item in child if isinstance(item.tag, str)))
    if kind == "map":
        entries = []
        for entry in (e for e in child if isinstance(e.tag, str)):
            if not (entry.get("key") or "").strip():
                problems.append(s.problem(entry, f"camunda:entry of {where} has no key", "bpmn.camunda"))
            entries.append((entry.get("key") or "", read_value(entry, problems, where)))
        return ("map", tuple(entries))
    if kind == "script":
        fmt = (child.get("scriptFormat") or "").strip().lower()
        if child.get("resource"):
            problems.append(s.problem(child, f"a script parameter of {where} loads camunda:resource "
                                      f"'{child.get('resource')}', which {s.NOT_SUPPORTED}; put the script "
                                      "in the model", "unsupported.script"))
        elif fmt not in s.PYTHON_SCRIPT_FORMATS:
            problems.append(s.problem(child, f"a script parameter of {where} is written in "
                                      f"'{child.get('scriptFormat')}', which {s.NOT_SUPPORTED}: only "
                                      'scriptFormat="python" (the safe script language) runs here',
                                      "unsupported.script"))
        else:
            return ("script", child.text or "")
        return None
    problems.append(s.problem(child, f"camunda:{kind} in a parameter of {where} {s.NOT_SUPPORTED}",
                              "bpmn.camunda"))
    return None


def read_mapping(el: Any) -> tuple[IoMapping | None, list[Problem]]:
    """The element's camunda:inputOutput and the problems with it (refusals Camunda makes too)."""
    s = _support()
    node = mapping_element(el)
    if node is None:
        return None, []
    tag, where = s.local(el), el.get("id")
    problems: list[Problem] = []
    if tag in _CAMUNDA_REFUSES or (tag == "subProcess" and el.get("triggeredByEvent") == "true"):
        kind = "event subprocess" if tag == "subProcess" else tag
        return None, [s.problem(node, f"camunda:inputOutput on {kind} {where}: Camunda 7 refuses input/output "
                                "mappings on this element type too (map data on the activity that follows)",
                                "bpmn.camunda")]
    inputs: list[tuple[str, Value]] = []
    outputs: list[tuple[str, Value]] = []
    for param in (p for p in node if isinstance(p.tag, str)):
        name = (param.get("name") or "").strip()
        if s.local(param) not in ("inputParameter", "outputParameter"):
            problems.append(s.problem(param, f"camunda:{s.local(param)} in camunda:inputOutput of {where} "
                                      f"{s.NOT_SUPPORTED}", "bpmn.camunda"))
            continue
        if not name:
            problems.append(s.problem(param, f"a camunda:{s.local(param)} of {where} has no name",
                                      "bpmn.camunda"))
            continue
        (inputs if s.local(param) == "inputParameter" else outputs).append(
            (name, read_value(param, problems, where)))
    loops = [c for c in el if s.local(c) == "multiInstanceLoopCharacteristics"]
    if outputs and loops:
        problems.append(s.problem(node, f"camunda:outputParameter on the multi-instance activity {where}: "
                                  "Camunda 7 does not allow output parameters on multi-instance constructs "
                                  "either", "bpmn.camunda"))
    return IoMapping(tuple(inputs), tuple(outputs)), problems


def expressions(value: Value) -> list[tuple[str, bool]]:
    """Every expression (True: a script) inside a value, for checking at upload."""
    if value is None or value[0] == "text":
        return []
    if value[0] == "expression":
        return [(value[1], False)]
    if value[0] == "template":
        return [(m, False) for m in re.findall(r"[$#]\{([^{}]*)\}", value[1])]
    if value[0] == "script":
        return [(value[1], True)]
    if value[0] == "list":
        return [e for item in value[1] for e in expressions(item)]
    return [e for key, item in value[1] for e in [*expressions(_text_value(key)), *expressions(item)]]
