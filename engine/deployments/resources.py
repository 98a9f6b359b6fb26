"""Read the files of a deployment into what each one deploys: processes, decisions or a form."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from engine.bpmn.containment import ModelLimits
from engine.bpmn.support import BPMN_NS
from engine.bpmn.xmlsafe import parse_xml
from engine.errors import EngineError, Invalid, Problem, ProcedureInvalid

from .references import Reference, collect

SUFFIXES = {".bpmn": "bpmn", ".bpmn20.xml": "bpmn", ".dmn": "dmn", ".dmn11.xml": "dmn", ".form": "form"}
MAX_FILENAME = 255


@dataclass(frozen=True)
class Item:
    """One deployable thing: a process (procedure), a decision or a form, with its key within its kind."""

    kind: str  # "process" | "decision" | "form"
    key: str
    name: str
    definition: Any
    summary: dict[str, Any] = field(default_factory=dict)
    version_tag: str | None = None


@dataclass(frozen=True)
class ReadFile:
    filename: str
    kind: str  # "bpmn" | "dmn" | "form"
    data: bytes
    sha256: str
    items: tuple[Item, ...]
    references: tuple[Reference, ...] = ()


def kind_of(filename: str) -> str | None:
    lowered = filename.lower()
    return next((kind for suffix, kind in SUFFIXES.items() if lowered.endswith(suffix)), None)


def check_filename(filename: str) -> Problem | None:
    if not filename or len(filename) > MAX_FILENAME or any(ord(c) < 32 for c in filename):
        return Problem(message=f"a resource needs a file name of 1 to {MAX_FILENAME} printable characters",
                       file=filename[:MAX_FILENAME] or None, rule="deployment.filename")
    if kind_of(filename) is None:
        return Problem(message=f"{filename}: not a resource this engine deploys (its name must end in "
                       f"{', '.join(SUFFIXES)})", file=filename, rule="deployment.filename")
    return None


def _bpmn(filename: str, data: bytes, max_bytes: int, summarize: Any,
          single: bool, process: str | None, limits: ModelLimits | None) -> tuple[list[Item], list[Reference]]:
    from engine.bpmn.parser import load_procedure

    root = parse_xml(data, max_bytes=max_bytes).getroot()
    executable = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")
                  if (p.get("isExecutable") or "").strip().lower() == "true" and p.get("id")]
    refs, problems = collect(root)
    if problems:
        raise Invalid(f"{filename} has references that cannot be read", problems)
    items = []
    # one-file upload: the one executable process (or the one named); a deployment: every executable one.
    # No executable process: load_procedure says so, with the line.
    for wanted in [process] if single or not executable else executable:
        definition = load_procedure(data, process=wanted, max_bytes=max_bytes, limits=limits)
        tag = next((p.get("{http://camunda.org/schema/1.0/bpmn}versionTag") for p in root.iter(f"{{{BPMN_NS}}}process")
                    if p.get("id") == definition.key), None)
        items.append(Item("process", definition.key, definition.name, definition, summarize(definition), tag))
    return items, refs


def _dmn(data: bytes, max_bytes: int) -> list[Item]:
    from engine.decisions.cells import compile_decision
    from engine.decisions.dmn_file import read_dmn
    from engine.decisions.summary import summarize_decision

    dmn = read_dmn(data, max_bytes=max_bytes)
    problems = [p for d in dmn.decisions.values() for p in compile_decision(d)[1]]
    if problems:
        raise ProcedureInvalid("the DMN file has cells this engine cannot run", problems[:50])
    return [Item("decision", d.id, d.name, d, summarize_decision(dmn, d), d.version_tag)
            for d in dmn.decisions.values()]


def _form(data: bytes) -> list[Item]:
    from engine.forms.schema import read_form

    form = read_form(data)
    return [Item("form", form.key, str(form.schema.get("name") or form.key), form,
                 {"fields": [c.get("key") for c in form.fields]}, form.schema.get("versionTag"))]


def read_file(filename: str, data: bytes, *, max_bytes: int, summarize: Any, single: bool = False,
              process: str | None = None, limits: ModelLimits | None = None) -> ReadFile:
    """Parse and check one file; EngineError whose problems each name the file.

    `limits`: MAX_ELEMENTS / MAX_NESTING from the settings (the defaults without them).
    `single` (the one-file upload): a BPMN file deploys one process, `process` or its only executable one.
    """
    kind = kind_of(filename)
    try:
        refs: list[Reference] = []
        if kind == "bpmn":
            items, refs = _bpmn(filename, data, max_bytes, summarize, single, process, limits)
        elif kind == "dmn":
            items = _dmn(data, max_bytes)
        else:
            items = _form(data)
    except EngineError as err:
        if single:
            raise
        err.problems = [p.in_file(filename) for p in err.problems] or [Problem(message=err.detail, file=filename)]
        err.detail = f"{filename}: {err.detail}"
        raise
    assert kind is not None
    return ReadFile(filename, kind, data, hashlib.sha256(data).hexdigest(), tuple(items), tuple(refs))
