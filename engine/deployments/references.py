"""The references a BPMN file makes to other resources (called processes, decisions, forms), and their check."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.bpmn.model import properties
from engine.bpmn.support import BPMN_NS, camunda_attr
from engine.errors import Problem

BINDINGS = frozenset({"latest", "deployment", "version", "versionTag"})
DEFERRED_PROPERTY = "deferredReference"
FORM_KEY_PREFIX = "camunda-forms:deployment:"


@dataclass(frozen=True)
class Reference:
    """A call activity's process, a business rule task's decision, or a form; `key` is a form file name
    when `by_filename` (camunda:formKey="camunda-forms:deployment:NAME")."""

    kind: str  # "process" | "decision" | "form"
    key: str
    binding: str
    element_id: str | None
    line: int | None
    version: int | None = None
    version_tag: str | None = None
    deferred: bool = False
    by_filename: bool = False

    def describe(self) -> str:
        what = {"process": "calls process", "decision": "uses decision", "form": "uses form"}[self.kind]
        how = {"version": f" version {self.version}", "versionTag": f" with version tag {self.version_tag}",
               "deployment": " from its own deployment"}.get(self.binding, "")
        return f"{self.element_id} {what} '{self.key}'{how}"


# Resolves a reference: None when found, else why not.
Resolver = Callable[[Reference], str | None]


def _binding(el: Any, prefix: str, problems: list[Problem]) -> tuple[str, int | None, str | None]:
    binding = (camunda_attr(el, f"{prefix}Binding") or "latest").strip()
    version_text = (camunda_attr(el, f"{prefix}Version") or "").strip()
    tag = (camunda_attr(el, f"{prefix}VersionTag") or "").strip() or None
    version = None
    if binding not in BINDINGS:
        problems.append(Problem(message=f"{el.get('id')}: camunda:{prefix}Binding '{binding}' is not one of "
                                f"{', '.join(sorted(BINDINGS))}", element_id=el.get("id"), line=el.sourceline,
                                rule="reference.binding"))
    elif binding == "version":
        if not version_text.isdigit():
            problems.append(Problem(message=f"{el.get('id')}: binding 'version' needs camunda:{prefix}Version, a "
                                    f"version number (got '{version_text}')", element_id=el.get("id"),
                                    line=el.sourceline, rule="reference.binding"))
        else:
            version = int(version_text)
    elif binding == "versionTag" and tag is None:
        problems.append(Problem(message=f"{el.get('id')}: binding 'versionTag' needs camunda:{prefix}VersionTag",
                                element_id=el.get("id"), line=el.sourceline, rule="reference.binding"))
    return binding, version, tag


def _deferred(el: Any) -> bool:
    return properties(el).get(DEFERRED_PROPERTY, "").strip().lower() == "true"


def collect(root: Any) -> tuple[list[Reference], list[Problem]]:
    """Every reference the executable processes of a BPMN document make outside the document."""
    own = {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")}
    refs: list[Reference] = []
    problems: list[Problem] = []
    for el in (e for e in root.iter() if isinstance(e.tag, str)):
        tag = el.tag.rpartition("}")[2]
        if tag == "callActivity":
            called = (el.get("calledElement") or "").strip()
            if not called or called in own or "${" in called or "#{" in called:
                continue  # same-file calls and expressions are the parser's business
            binding, version, tag_ = _binding(el, "calledElement", problems)
            refs.append(Reference("process", called, binding, el.get("id"), el.sourceline, version, tag_,
                                  _deferred(el)))
        elif tag == "businessRuleTask":
            ref = (camunda_attr(el, "decisionRef") or "").strip()
            if ref and "${" not in ref and "#{" not in ref:
                binding, version, tag_ = _binding(el, "decisionRef", problems)
                refs.append(Reference("decision", ref, binding, el.get("id"), el.sourceline, version, tag_,
                                      _deferred(el)))
        elif tag in ("userTask", "startEvent"):
            form_ref = (camunda_attr(el, "formRef") or "").strip()
            form_key = (camunda_attr(el, "formKey") or "").strip()
            if form_ref:
                binding, version, tag_ = _binding(el, "formRef", problems)
                refs.append(Reference("form", form_ref, binding, el.get("id"), el.sourceline, version, tag_,
                                      _deferred(el)))
            elif form_key.startswith(FORM_KEY_PREFIX):
                refs.append(Reference("form", form_key[len(FORM_KEY_PREFIX):], "deployment", el.get("id"),
                                      el.sourceline, by_filename=True))
    return refs, problems


def check(refs: list[Reference], resolve: Resolver) -> list[Problem]:
    """One problem per reference that cannot be resolved and is not deferred (deferred: binding latest only)."""
    problems: list[Problem] = []
    for ref in refs:
        if ref.deferred and ref.binding != "latest":
            problems.append(Problem(message=f"{ref.describe()}: only a reference with binding 'latest' may be "
                                    f"deferred ({DEFERRED_PROPERTY})", element_id=ref.element_id, line=ref.line,
                                    rule="reference.deferred"))
            continue
        why = resolve(ref)
        if why is None or ref.deferred:
            continue
        problems.append(Problem(message=f"unresolved reference: {ref.describe()}, but {why}; deploy it in the same "
                                "deployment or first (or, with binding 'latest', mark the element with the "
                                f"extension property {DEFERRED_PROPERTY}=true to resolve it when it runs)",
                                element_id=ref.element_id, line=ref.line, rule="reference.unresolved"))
    return problems
