"""A bounded schemathesis run over /openapi.json on both databases: no 5xx, no response off the schema, no status
the document does not declare by number.

Bounded: a few examples per operation, valid and invalid ones (SCHEMATHESIS_EXAMPLES, default 4), no shrinking, a deadline per
example. Excluded: only what starts a load test (POST .../fitness-tests runs Locust for a minute).
"""
from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from .helpers import BUNDLED, upload_active

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = (not_a_server_error, content_type_conformance, response_schema_conformance)


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "POST" and operation.path.endswith("/fitness-tests"):
            continue  # starts a Locust load test
        found.append(operation)
    return found


def _exercise(operation: Any, headers: dict[str, str], statuses: dict[int, int], failures: list[str]) -> None:
    """A few generated requests to one operation, each checked; failures collected."""
    # every status an operation answers is declared by number ("default" does not count), so that a client
    # finds each 403, 404 or 409 it must handle in the document
    declared = {int(code) for code in operation.definition.raw.get("responses", {}) if code.isdigit()}

    @settings(max_examples=EXAMPLES, phases=[Phase.explicit, Phase.generate], deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck), database=None)
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code not in declared:
            failures.append(f"{case.method} {operation.path} -> {response.status_code}: not declared "
                            f"(declared: {sorted(declared)})")
        for check in CHECKS:
            try:
                case.validate_response(response, checks=(check,))
            except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - collected, reported below
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{str(err).splitlines()[0][:300]}")
                break

    run()


def test_no_server_error_and_no_off_schema_response(app, client, token) -> None:  # type: ignore[no-untyped-def]
    upload_active(client, BUNDLED / "major_incident.bpmn")
    # admin and dpo: between them every operation is allowed (data-subject export and erasure are the dpo's only)
    headers = {"Authorization": f"Bearer {token('admin', ['admin', 'dpo'])}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = _operations(app)
    assert len(operations) > 50

    for operation in operations:
        _exercise(operation, headers, statuses, failures)
    assert sum(statuses.values()) >= len(operations), statuses
    print("schemathesis statuses:", dict(sorted(statuses.items())))
    assert failures == [], "\n".join(sorted(set(failures))[:60])


def test_every_operation_declares_the_refusals_it_can_answer(client) -> None:  # type: ignore[no-untyped-def]
    document = client.get("/openapi.json").get_json()
    missing = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            declared = set(operation["responses"])
            wanted = set()
            if operation.get("security"):
                wanted |= {"401", "403"}
            if any(p.get("in") == "path" for p in [*item.get("parameters", []), *operation.get("parameters", [])]):
                wanted.add("404")
            if "requestBody" in operation:
                wanted.add("400")
            if method == "post" and path in ("/api/v1/procedures", "/api/v1/deployments"):
                wanted.add("409")  # a concurrent deployment of the same files
            if wanted - declared:
                missing.append(f"{method.upper()} {path}: {sorted(wanted - declared)}")
    assert missing == []
