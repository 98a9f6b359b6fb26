"""Lint rules about personal data: undeclared personal-looking fields, retention, the data subject."""
from __future__ import annotations

from engine.bpmn.model import ProcedureDefinition
from engine.records.declarations import LOOKS_PERSONAL, RETENTION_PROPERTY, SUBJECT_PROPERTY, declared

from .findings import Finding


def personal_data(definition: ProcedureDefinition) -> list[Finding]:
    decl = declared(definition)
    findings = []
    for task in definition.user_tasks:
        for field in task.form:
            if field.id not in decl.names and LOOKS_PERSONAL.search(field.id):
                findings.append(Finding("personal.undeclared", task.id, f"form field '{field.id}' of task "
                                        f"{task.id} looks like personal data but is not declared: list it in "
                                        "the process property `personal_data` or give the field the property "
                                        "`personal` = true (or rename it if it is not personal)"))
    if decl.retention_error:
        findings.append(Finding("personal.retention", definition.key, f"process property "
                                f"`{RETENTION_PROPERTY}` is not an ISO 8601 duration such as P2Y: "
                                f"{decl.retention_error}"))
    if decl.names and not decl.retention:
        findings.append(Finding("personal.no_retention", definition.key, "the procedure declares "
                                f"personal data ({', '.join(sorted(decl.names))}) but no `{RETENTION_PROPERTY}`: "
                                "the deployment's default retention (PERSONAL_DATA_RETENTION) applies"))
    if decl.names and not decl.subject:
        findings.append(Finding("personal.no_subject", definition.key, "the procedure declares personal "
                                f"data but no `{SUBJECT_PROPERTY}` (the variable holding the data subject's "
                                "identifier): an erasure or access request by subject cannot find it"))
    return findings
