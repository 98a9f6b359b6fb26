"""Helpers for governance tests: a client whose requests carry a named actor, and stand-in fitness evidence.

`as_user(name)` is a bearer token for `name` with every role, so a test names who acted while the role
rules themselves are covered by tests/api/test_role_matrix.py.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from engine import clock
from engine.db import fitness_rows, procedure_rows
from engine.services import scenario_tests
from engine.services.engine_app import IncidentEngine

ROOT = Path(__file__).resolve().parents[2]


def actor_client(engine: IncidentEngine) -> Any:
    from api import create_app

    app = create_app(engine.settings, engine)
    app.testing = True
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = as_user("admin")["Authorization"]
    return client


def as_user(name: str) -> dict[str, str]:
    from engine.identity.principal import ROLES
    from engine.identity.tokens import issue_token
    from tests.conftest import make_settings

    return {"Authorization": f"Bearer {issue_token(make_settings('sqlite://'), user=name, roles=ROLES)}"}


def passing_fitness(engine: IncidentEngine, key: str, version: int, *, incidents_per_hour: int = 60,
                    agents: int = 5, status: str = "passed", sha256: str | None = None) -> str:
    """Store a finished fitness test as evidence (the real Locust run is exercised in tests/e2e)."""
    with engine.uow() as uow:
        proc = procedure_rows.get(uow.conn, key, version)
        assert proc is not None
        row = {"id": str(uuid.uuid4()), "procedure_id": proc["id"], "procedure_key": key, "procedure_version": version,
               "sha256": sha256 or proc["sha256"], "incidents_per_hour": incidents_per_hour, "agents": agents,
               "duration_s": 10, "status": status, "progress": {"phase": "done"},
               "report": {"passed": status == "passed", "reasons": []}, "created_by": "ops",
               "created_at": clock.now(), "finished_at": clock.now()}
        fitness_rows.insert(uow.conn, row)
        uow.commit()
    return str(row["id"])


def objective(client: Any, name: str = "Restore service quickly") -> str:
    strategy = client.post("/api/v1/strategies", json={"name": "Resilient contact centre", "aim": "Keep customers served"},
                           headers=as_user("dee")).get_json()
    created = client.post("/api/v1/objectives", json={"strategy_id": strategy["id"], "name": name,
                                                      "description": "P1 incidents resolved within the hour"},
                          headers=as_user("dee"))
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["id"])


def version_url(key: str, version: int) -> str:
    return f"/api/v1/procedures/{key}/versions/{version}"


def scenario_file(key: str) -> Path:
    """The procedure's scenario tests: bundled beside its BPMN, or a test fixture's."""
    bundled = ROOT / "bpmn" / f"{key}.scenarios.yaml"
    return bundled if bundled.is_file() else ROOT / "tests" / "fixtures" / "scenarios" / f"{key}.yaml"


def passing_scenarios(engine: IncidentEngine, key: str, version: int, *, actor: str = "ann",
                      source: bytes | None = None) -> dict[str, Any]:
    """Store the procedure's scenario file (or `source`) for the version and run it for real: the approval
    evidence that every scenario passes and every sequence flow is taken (the run must show it, or this fails)."""
    scenario_tests.upload(engine, key, version, source or scenario_file(key).read_bytes(), actor=actor)
    run = scenario_tests.run(engine, key, version, actor=actor)
    assert run["status"] == "passed" and not run["coverage"]["uncovered_flows"], \
        ([s["failure"] for s in run["scenarios"] if s["failure"]], run["coverage"]["uncovered_flows"])
    return run
