"""/metrics: Prometheus text the official parser reads, fed by real transitions, guarded by token or network,
and merged across processes in multiprocess mode (as under gunicorn with several workers)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from engine.services.engine_app import IncidentEngine
from tests.conftest import make_settings

from .helpers import BUNDLED, complete, open_task, start, upload, upload_active

ROOT = Path(__file__).resolve().parents[2]


def _client(engine: IncidentEngine, **settings: Any) -> Any:
    from api import create_app
    from tests.conftest import admin_test_client

    if settings:
        engine.settings = make_settings(engine.settings.database_url, **settings)
    app = create_app(engine.settings, engine)
    app.testing = True
    return admin_test_client(app)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_follow_the_transitions(engine: IncidentEngine) -> None:
    client = _client(engine)
    assert upload_active(client, BUNDLED / "major_incident.bpmn").status_code == 201
    before = _samples(client.get("/metrics").get_data(as_text=True))
    incident = start(client, "major_incident", {"priority": "P2", "summary": "s", "caller_id": "c"}).get_json()
    incident = complete(client, open_task(incident, "Task_LogIncident"),
                        {"summary": "s", "caller_id": "c", "identity_verified": False}).get_json()
    complete(client, open_task(incident, "Task_Triage"), {"priority": "P2", "priority_reason": "r"})

    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    after = _samples(response.get_data(as_text=True))

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("incident_engine_transitions_total", procedure="major_incident", kind="incident_started") == 1
    assert delta("incident_engine_transitions_total", procedure="major_incident", kind="check_failed") == 1
    assert delta("incident_engine_transitions_total", procedure="major_incident", kind="gateway") == 1
    assert delta("incident_engine_check_outcomes_total", procedure="major_incident", check="triage_complete",
                 outcome="failed") == 1
    assert delta("incident_engine_task_wait_seconds_count", procedure="major_incident", task="Task_Triage",
                 lane="incident-managers") == 1
    assert delta("incident_engine_http_request_duration_seconds_count", method="POST",
                 endpoint="/api/v1/tasks/<task_id>/complete", status="200") == 2
    assert _value(after, "incident_engine_open_tasks", procedure="major_incident", lane="service-desk") == 1
    assert _value(after, "incident_engine_incidents", procedure="major_incident", status="running") == 1
    assert _value(after, "incident_engine_outbox_messages", status="pending") == 0
    assert ("incident_engine_timer_lag_seconds", ()) in after


def test_a_rolled_back_transition_is_not_counted(engine: IncidentEngine) -> None:
    client = _client(engine)
    upload_active(client, BUNDLED / "major_incident.bpmn")
    incident = start(client, "major_incident", {"priority": "P2", "summary": "s", "caller_id": "c"}).get_json()
    before = _samples(client.get("/metrics").get_data(as_text=True))
    bad = complete(client, open_task(incident, "Task_LogIncident"), {"summary": "s"})   # 422: nothing written
    assert bad.status_code == 422
    after = _samples(client.get("/metrics").get_data(as_text=True))
    assert _value(after, "incident_engine_transitions_total", procedure="major_incident", kind="task") == \
        _value(before, "incident_engine_transitions_total", procedure="major_incident", kind="task")


def test_a_test_incident_moves_no_counter_and_no_gauge(engine: IncidentEngine) -> None:
    client = _client(engine)
    assert upload(client, BUNDLED / "major_incident.bpmn").status_code == 201  # a draft: test incidents only
    before = _samples(client.get("/metrics").get_data(as_text=True))
    incident = start(client, "major_incident", {"priority": "P2", "summary": "s", "caller_id": "c"}, test=True)
    assert incident.status_code == 201, incident.get_json()
    incident = complete(client, open_task(incident.get_json(), "Task_LogIncident"),
                        {"summary": "s", "caller_id": "c", "identity_verified": False}).get_json()
    complete(client, open_task(incident, "Task_Triage"), {"priority": "P2", "priority_reason": "r"})
    after = _samples(client.get("/metrics").get_data(as_text=True))
    ours = {key: value for key, value in after.items() if key[0].startswith("incident_engine_")
            and not key[0].startswith("incident_engine_http_") and "outbox" not in key[0]}
    assert ours == {key: value for key, value in before.items() if key in ours}, "a test incident was counted"
    for gauge in ("incident_engine_open_tasks", "incident_engine_incidents"):  # read from this database
        assert not [labels for (name, labels) in after if name == gauge], gauge


def test_access_by_network_or_token(engine: IncidentEngine) -> None:
    outside = {"REMOTE_ADDR": "10.1.2.3"}
    client = _client(engine)
    assert client.get("/metrics").status_code == 200                      # 127.0.0.1 is allowed by default
    refused = client.get("/metrics", environ_base=outside)
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"

    client = _client(engine, metrics_token="s3cret", metrics_allow_networks=("10.1.0.0/16",))
    assert client.get("/metrics", environ_base=outside).status_code == 200
    assert client.get("/metrics").status_code == 401                      # localhost no longer listed
    unauthorised = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
    assert unauthorised.status_code == 401 and unauthorised.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).status_code == 200

    client = _client(engine, metrics_token=None, metrics_allow_networks=())
    assert client.get("/metrics").status_code == 403


_WORKER = textwrap.dedent("""
    import sys
    from engine.config import Settings
    from api import create_app
    app = create_app(Settings(database_url=sys.argv[1], deploy_bundled=False))
    client = app.test_client()
    for _ in range(int(sys.argv[2])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[3] == "scrape":
        sys.stdout.write(client.get("/metrics").get_data(as_text=True))
""")


def test_multiprocess_mode_merges_the_workers(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "engine.sqlite3"
    shutil.copy(sqlite_template, db)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"),
           "LOG_LEVEL": "WARNING"}
    (tmp_path / "prom").mkdir()
    url = f"sqlite:///{db}"
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, url, str(n), "no"], env=env, cwd=ROOT)
               for n in (3, 4)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert len(list((tmp_path / "prom").glob("*.db"))) >= 2               # one file set per process
    scrape = subprocess.run([sys.executable, "-c", _WORKER, url, "0", "scrape"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert scrape.returncode == 0, scrape.stderr[-2000:]
    samples = _samples(scrape.stdout)
    assert _value(samples, "incident_engine_http_request_duration_seconds_count", method="GET", endpoint="/healthz",
                  status="200") == 7
    assert ("incident_engine_timer_lag_seconds", ()) in samples          # database gauges, once

