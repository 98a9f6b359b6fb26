"""Whether a deployment may be deleted, and why not: the rules as plain data (docs/deployments.md).

A deployment is deleted whole or not at all. It takes with it the versions it created (its "unchanged"
entries are other deployments' versions and stay), so it may go only when
- every procedure version it created is still a draft: a version that entered review (in review, tested,
  approved, active, retired, rejected) is a governance record and never vanishes with a deployment; an
  active one would also silently stop taking live incidents;
- no live (non-test) incident ran one of its versions: their audit trail is evidence;
- no unfinished test incident runs one of its versions, unless `cascade` (Camunda's flag): then the test
  incidents of its versions, finished or not, are purged with everything they wrote, as retention purges
  test incidents anyway; without cascade only finished test incidents go, as Camunda keeps no instance of a
  deleted definition either;
- no test incident of its versions was started by a call activity of an incident outside them;
- no other deployment lists one of its versions (deployed unchanged there): delete that one first;
- no unfinished incident of another deployment resolves one of its decisions or forms now (binding latest,
  version or version tag): removing it would change what that incident gets next.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Created:
    """A version the deployment created; `status` is a procedure version's lifecycle status (else None)."""

    filename: str
    kind: str  # "process" | "decision" | "form"
    key: str
    version: int
    id: str
    status: str | None = None

    def describe(self) -> str:
        return f"{self.filename}: {self.kind} '{self.key}' version {self.version}"


@dataclass
class Facts:
    """What the deletion rules look at, gathered in one transaction."""

    created: list[Created]
    live_incidents: int = 0  # non-test incidents of its procedure versions
    unfinished_test_incidents: int = 0
    finished_test_incidents: int = 0
    called_from_outside: list[str] = field(default_factory=list)  # incident ids whose caller is not purged
    listed_elsewhere: dict[str, list[str]] = field(default_factory=dict)  # version id -> other deployment ids
    in_use: list[str] = field(default_factory=list)  # "decision 'x' version 2 by 3 unfinished incidents ..."


@dataclass(frozen=True)
class Refusal:
    """One reason the deployment cannot be deleted; `kind` says which rule ("governance", "incidents",
    "cascade", "called", "shared", "in_use")."""

    kind: str
    message: str


def refusals(facts: Facts, *, cascade: bool) -> list[Refusal]:
    """Every reason the deletion is refused (empty: it may go). See the module docstring."""
    out: list[Refusal] = []
    for item in facts.created:
        if item.kind == "process" and item.status != "draft":
            extra = " and takes live incidents" if item.status == "active" else ""
            out.append(Refusal("governance", f"{item.describe()} is {item.status}{extra}: a version that entered "
                               "review is a governance record and is never deleted with its deployment "
                               "(retire an active version through governance instead)"))
    if facts.live_incidents:
        out.append(Refusal("incidents", f"{facts.live_incidents} live incident(s) ran its procedure versions: their "
                           "audit trail is evidence, so the versions stay"))
    if facts.unfinished_test_incidents and not cascade:
        out.append(Refusal("cascade", f"{facts.unfinished_test_incidents} unfinished test incident(s) run its "
                           "procedure versions: delete with cascade=true to purge them with the deployment"))
    for incident_id in facts.called_from_outside:
        out.append(Refusal("called", f"test incident {incident_id} runs one of its versions for a call activity "
                           "of an incident outside this deployment: finish or purge the calling incident first"))
    for version_id, others in facts.listed_elsewhere.items():
        item = next(c for c in facts.created if c.id == version_id)
        out.append(Refusal("shared", f"{item.describe()} is also part of deployment(s) {', '.join(sorted(others))} "
                           "(deployed there unchanged): delete those first"))
    out += [Refusal("in_use", f"{text}: removing it would change what they get next") for text in facts.in_use]
    return out


def not_deleted_message(deployment_id: str, found: list[Refusal]) -> str:
    return f"deployment {deployment_id} cannot be deleted: " + "; ".join(r.message for r in found)


def listing(resources: list[dict[str, Any]], removed_ids: set[str]) -> list[dict[str, Any]]:
    """The deployment's listing for the deletion record: each entry with `removed` (its version went)."""
    return [{**entry, "removed": entry["id"] in removed_ids} for entry in resources]
