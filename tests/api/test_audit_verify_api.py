"""GET /api/v1/incidents/{id}/audit/verify and `incident-engine audit verify`: the chain checked over HTTP and
from the command line, before and after a row is edited in the database."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from api.cli import main
from engine.services.engine_app import IncidentEngine
from tests.conftest import TEST_AUDIT_KEY
from tests.integration.test_audit_chain import tampering
from tests.support.incidents import deploy_bundled, major_in_diagnosis


def _tamper(engine: IncidentEngine, incident_id: str) -> int:
    with tampering(engine) as conn:
        row = conn.execute(text("SELECT max(id) FROM audit WHERE incident_id = :i"), {"i": incident_id}).scalar_one()
        conn.execute(text("UPDATE audit SET to_state = 'completed' WHERE id = :id"), {"id": row})
    return int(row)


def test_verify_reports_a_valid_chain_then_the_edited_row(engine: IncidentEngine, client: Any,
                                                          client_as: Any) -> None:
    deploy_bundled(engine)
    view = major_in_diagnosis(engine)
    answer = client.get(f"/api/v1/incidents/{view['id']}/audit/verify")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["valid"] is True and body["first_broken"] is None and body["chained"] == body["rows"] > 0
    trail = client.get(f"/api/v1/incidents/{view['id']}/audit").get_json()["items"]
    assert [r["seq"] for r in trail] == list(range(1, len(trail) + 1)) and all(len(r["hash"]) == 64 for r in trail)

    edited = _tamper(engine, view["id"])
    body = client.get(f"/api/v1/incidents/{view['id']}/audit/verify").get_json()
    assert body["valid"] is False and body["first_broken"]["audit_id"] == edited
    assert body["first_broken"]["seq"] == len(trail)

    assert client.get("/api/v1/incidents/00000000-0000-0000-0000-000000000000/audit/verify").status_code == 404
    stranger = client_as("nobody", ["agent"], ["some-other-lane"])
    assert stranger.get(f"/api/v1/incidents/{view['id']}/audit/verify").status_code in (403, 404)


def test_the_cli_verifies_every_chain_and_fails_on_a_broken_one(engine: IncidentEngine, database_url: str,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AUDIT_HMAC_KEY", TEST_AUDIT_KEY)
    deploy_bundled(engine)
    good, bad = major_in_diagnosis(engine), major_in_diagnosis(engine)
    assert main(["audit", "verify", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert f"{good['id']}: ok" in out and "2 incident chain(s) verified, 0 broken" in out

    _tamper(engine, bad["id"])
    assert main(["audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"{bad['id']}: BROKEN at chain row" in out and good["id"] not in out
    assert "2 incident chain(s) verified, 1 broken" in out
    assert main(["audit", "verify", "--incident", good["id"]]) == 0
    monkeypatch.setenv("AUDIT_HMAC_KEY", "another-key-that-is-long-enough-0123456789")
    assert main(["audit", "verify", "--incident", good["id"]]) == 1  # without the key no chain holds
