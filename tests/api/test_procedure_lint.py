"""Lint at upload over HTTP: errors refuse the upload, warnings come back with the 201 and stay readable."""
from __future__ import annotations

import io
from pathlib import Path

from .helpers import BUNDLED, FIXTURES, upload

LINT = FIXTURES / "lint"


def _xml(client, text: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/procedures", data=text.encode(), content_type="application/xml")


def test_a_procedure_missing_a_required_check_is_refused_with_the_path(client) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, LINT / "required_check_fail.bpmn")
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.get_json()
    [error] = body["errors"]
    assert error["rule"] == "check.required" and error["severity"] == "error"
    assert error["element_id"] == "End_Done" and error["line"]
    assert error["path"] == ["Start", "Task_Log", "Gateway_Urgent", "Task_Fast", "End_Done"]
    assert "Start -> Task_Log -> Gateway_Urgent -> Task_Fast -> End_Done" in error["message"]
    assert client.get("/api/v1/procedures/required_check_fail").status_code == 404


def test_a_bundled_procedure_without_its_check_gateway_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    text = (BUNDLED / "customer_complaint.bpmn").read_text(encoding="utf-8")
    text = text.replace('<camunda:property name="check" value="contact_verified" />',
                        '<camunda:property name="note" value="no longer a check" />')
    response = _xml(client, text)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert {e["rule"] for e in errors} == {"check.required"}
    assert all("contact_verified" in e["message"] and e["path"][0] == "StartEvent_ComplaintReceived"
               for e in errors)


def test_warnings_are_returned_with_the_201_and_stored(client) -> None:  # type: ignore[no-untyped-def]
    response = upload(client, LINT / "no_owner_fail.bpmn")
    assert response.status_code == 201
    [warning] = [w for w in response.get_json()["warnings"] if w.get("rule") == "task.no_owner"]
    assert warning["severity"] == "warning" and warning["element_id"] == "Task_Work"
    lint = client.get("/api/v1/procedures/no_owner_fail/versions/1/lint")
    assert lint.status_code == 200
    body = lint.get_json()
    assert (body["errors"], body["warnings"]) == (0, 1)
    [finding] = body["findings"]
    assert {k: finding[k] for k in ("rule", "severity", "element_id")} == {
        "rule": "task.no_owner", "severity": "warning", "element_id": "Task_Work"}
    assert "neither a lane nor a candidate group" in finding["message"]
    again = client.get("/api/v1/procedures/no_owner_fail/versions/1").get_json()
    assert again["warnings"] == response.get_json()["warnings"]


def test_bundled_procedures_upload_clean_and_list_their_checks(client) -> None:  # type: ignore[no-untyped-def]
    for path in sorted(Path(BUNDLED).glob("*.bpmn")):
        forms = sorted(path.parent.glob(f"{path.stem}.*.form"))
        if forms:  # its Camunda Forms (binding `deployment`) come in the same deployment, so alone it is a 422
            alone = upload(client, path)
            assert alone.status_code == 422 and "dsr_intake" in str(alone.get_json()["errors"]), alone.get_json()
            files = [(io.BytesIO(p.read_bytes()), p.name) for p in [path, *forms]]
            deployed = client.post("/api/v1/deployments", data={"files": files}, content_type="multipart/form-data")
            assert deployed.status_code == 201, deployed.get_json()
            assert [r["kind"] for r in deployed.get_json()["resources"]] == ["process"] + ["form"] * len(forms)
            response = client.get(f"/api/v1/procedures/{path.stem}/versions/1")
        else:
            response = upload(client, path)
            assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert body["warnings"] == []
        [check] = body["checks"]
        assert check["required"] is True and check["pass_flow"] and check["fail_flow"]
        lint = client.get(f"/api/v1/procedures/{body['key']}/versions/1/lint").get_json()
        assert lint["findings"] == [] and lint["errors"] == 0


def test_lint_of_an_unknown_version_is_404(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/procedures/nope/versions/1/lint").status_code == 404
    assert client.get("/api/v1/procedures/nope/adherence").status_code == 404
