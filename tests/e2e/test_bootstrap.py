"""The first start: `serve` on the embedded default takes the bundled procedures live through governance
(a declaration, scenario tests, a real Locust fitness test, approval and activation by a distinct
identity), once; `incident-engine bootstrap` does the same on demand and is a no-op afterwards."""
from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from .test_cli_serve import _cli, _env, _serving

BUNDLED = Path(__file__).resolve().parents[2] / "bpmn"
KEY = "customer_complaint"  # one bundled procedure keeps this test to one fitness run


def _bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name in (f"{KEY}.bpmn", f"{KEY}.scenarios.yaml"):
        shutil.copy(BUNDLED / name, folder / name)
    return folder


def _post(base: str, path: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_serve_bootstraps_the_bundled_procedures_through_governance_once(tmp_path: Path) -> None:
    env = _env(tmp_path, tmp_path / "first.sqlite3")
    env.update(BOOTSTRAP_BUNDLED="1", BUNDLED_BPMN_DIR=str(_bundle(tmp_path)), BOOTSTRAP_FITNESS_SECONDS="6",
               FITNESS_P95_MS="5000")  # a shared 2-core machine runs this beside other suites
    with _serving(tmp_path, env, "first", ready_within=300) as api:
        status, governance = api.get(f"/api/v1/procedures/{KEY}/versions/1/governance")
        assert status == 200, governance
        assert governance["status"] == "active", (governance, (tmp_path / "first.log").read_text()[-3000:])
        steps = [(e["action"], e["actor"]) for e in governance["events"]]
        assert steps == [("scenarios_uploaded", "incident-engine:bundled"), ("declare", "incident-engine:bundled"), ("submit", "incident-engine:bundled"),
                         ("mark_tested", "incident-engine:bootstrap"), ("approve", "incident-engine:bootstrap"),
                         ("activate", "incident-engine:bootstrap")]
        status, tests = api.get(f"/api/v1/procedures/{KEY}/versions/1/fitness-tests")
        assert status == 200 and [t["status"] for t in tests["items"]] == ["passed"]
        report = tests["items"][0]["report"]
        assert report["incidents"]["started"] >= 2 and report["aggregated"]["requests"] > 0  # Locust really ran
        status, runs = api.get(f"/api/v1/procedures/{KEY}/versions/1/scenario-tests/runs")
        assert status == 200 and [r["status"] for r in runs["items"]] == ["passed"]
        status, versions = api.get(f"/api/v1/procedures/{KEY}")
        assert versions["items"][0]["created_by"] == "incident-engine:bundled"
        started, incident = _post(api.base, "/api/v1/incidents", api.token or "", {  # a live incident now
            "procedure": KEY, "data": {"received_at": "2026-03-02T09:00:00Z", "customer_name": "A", "channel": "phone"}})
        assert started == 201 and incident["test"] is False, incident

    with _serving(tmp_path, env, "second") as api:  # the second start runs nothing again
        status, tests = api.get(f"/api/v1/procedures/{KEY}/versions/1/fitness-tests")
        assert len(tests["items"]) == 1
    done = subprocess.run([*_cli(), "bootstrap"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{KEY}: v1 is active"


def test_the_bundled_procedure_with_camunda_forms_goes_live_at_first_start(tmp_path: Path) -> None:
    """data_subject_request's tasks have Camunda Forms with required fields: its scenario tests, and a real
    Locust fitness test whose agents fill the form-js schemas (on an isolated database that gets its forms
    as one deployment), pass, so the first start activates it; the second is a no-op."""
    from engine.db.migrate import upgrade
    from engine.services import fitness
    from engine.services.bootstrap import bootstrap_bundled
    from engine.services.engine_app import IncidentEngine
    from tests.conftest import make_settings

    key = "data_subject_request"
    folder = tmp_path / "bundle"
    folder.mkdir()
    for path in BUNDLED.glob(f"{key}.*"):
        shutil.copy(path, folder / path.name)
    shutil.copy(BUNDLED / f"{key}.bpmn", folder / f"{key}.bpmn")
    url = f"sqlite:///{tmp_path / 'forms.sqlite3'}"
    upgrade(url)
    engine = IncidentEngine(make_settings(url, bootstrap_fitness_seconds=10, fitness_p95_ms=5000, fitness_drain_s=3,
                                          fitness_work_dir=tmp_path))
    try:
        said: list[str] = []
        outcome = bootstrap_bundled(engine, folder, say=said.append)
        assert outcome == {key: "v1 activated"}, (said, [(t["status"], t.get("error"), (t["report"] or {}).get("locust"))
                                                        for t in fitness.page(engine, key, 1)])
        assert any("scenario tests passed (3 passed" in line for line in said), said
        test = fitness.page(engine, key, 1)[-1]  # the passing one (a busy machine may fail a first attempt)
        report = test["report"]
        assert test["status"] == "passed" and report["incidents"]["started"] >= 2, report
        assert report["incidents"]["error"] == 0 and report["aggregated"]["failures"] == 0, report
        assert bootstrap_bundled(engine, folder, say=said.append) == {key: "v1 is active"}
    finally:
        engine.db.dispose()
